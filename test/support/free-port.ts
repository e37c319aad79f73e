export { freePort } from '../../common/dev-services/free-port.ts';
