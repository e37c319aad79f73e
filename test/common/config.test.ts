import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../common/config.ts';

describe('configuration', () => {
  it.each([
    ['SPILLWAY_AUTH_INTROSPECTION_URL', 'not a url'],
    ['SPILLWAY_AUTH_INTROSPECTION_CLIENT', 'no-colon-here'],
    ['SPILLWAY_AUTH_INTROSPECTION_TIMEOUT_MS', '5'],
    ['SPILLWAY_AUTH_INTROSPECTION_MAX_PENDING', '0'],
  ])('refuses %s=%s, naming the setting', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('takes the introspection settings with their defaults', () => {
    const c = loadConfig({
      SPILLWAY_AUTH_INTROSPECTION_URL: 'https://auth.example/oauth2/introspect',
      SPILLWAY_AUTH_INTROSPECTION_CLIENT: 'gateway:s3cret',
    });
    expect(c.SPILLWAY_AUTH_INTROSPECTION_TIMEOUT_MS).toBe(1000);
    expect(c.SPILLWAY_AUTH_INTROSPECTION_MAX_PENDING).toBe(64);
    expect(loadConfig({}).SPILLWAY_AUTH_INTROSPECTION_URL).toBeUndefined();
  });
});
