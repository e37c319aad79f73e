// A distributed inference worker process for integration tests: real Kafka + Redis from the env.
import { loadConfig } from '../../../common/config.ts';
import { createDistributedInfra } from '../../../common/distributed-infra.ts';
import { createLogger } from '../../../common/log.ts';
import { loadPolicyDir } from '../../../common/policy/loader.ts';
import { StaticPolicySource } from '../../../common/policy/policy-source.ts';
import { startInference } from '../../../inference/service.ts';

const config = loadConfig(process.env);
const workerId = config.SPILLWAY_WORKER_ID ?? `w-${process.pid}`;
const log = createLogger('inference-test', 'warn');
const infra = await createDistributedInfra(config, log, { clientId: workerId });
const service = await startInference({
  infra,
  policy: new StaticPolicySource(await loadPolicyDir('policies')),
  log,
  workerId,
  slots: 1,
  lanes: (config.SPILLWAY_LANES ?? 'api').split(','),
  leaseMs: Number(process.env.TEST_LEASE_MS ?? 2000),
  modelThreads: 1,
});
process.stdout.write('ready\n');
process.once('SIGTERM', async () => {
  await service.close();
  await infra.close();
  process.exit(0);
});
