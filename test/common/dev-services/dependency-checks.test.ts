import { describe, expect, it } from 'vitest';
import { kafkaVersion } from '../../../common/dev-services/kafka-broker.ts';
import { redisServerVersion } from '../../../common/dev-services/redis-server.ts';
import { DependencyError } from '../../../common/errors.ts';

// The test servers must fail loudly with the fix when missing, never be skipped.
describe('dependency checks for the real test servers', () => {
  it('names the setup command when the Kafka jars are missing', () => {
    expect(() => kafkaVersion('/nonexistent/kafka/lib')).toThrow(DependencyError);
    expect(() => kafkaVersion('/nonexistent/kafka/lib')).toThrow(/scripts\/setup\.sh/);
  });

  it('names the install command when redis-server is not on PATH', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => redisServerVersion()).toThrow(/apt-get install -y redis-server/);
    } finally {
      process.env.PATH = path;
    }
  });
});
