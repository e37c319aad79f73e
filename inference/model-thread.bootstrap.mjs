// Worker threads do not inherit the parent's tsx loader: register it here, then load the
// TypeScript entry (model-thread.ts).
import { register } from 'tsx/esm/api';

register();
await import('./model-thread.ts');
