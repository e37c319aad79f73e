import { inject } from 'vitest';
import { KafkaBroker } from '../../common/dev-services/kafka-broker.ts';

/**
 * The Kafka broker the global setup started for this run, with kill/stop/restart controls that
 * work from a test worker (the pid lives in the broker's directory).
 */
export function sharedKafka(): KafkaBroker {
  return new KafkaBroker(inject('kafka'));
}
