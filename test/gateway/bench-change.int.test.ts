import { describe, expect, it } from 'vitest';
import { runGatewayChangeBench } from '../../gateway/bench-change.ts';
import { expectComparedWindows } from './support/change-rows.ts';

// An integration test because it needs the real servers, but it starts its own (the bench always
// does): two bench servers' jobs and admission state must not reach the shared test servers.
describe('gateway change bench, distributed', () => {
  it('runs both gateways on one real Redis and Kafka and compares them window by window', async () => {
    const rows = await runGatewayChangeBench({
      rev: 'HEAD',
      variant: 'distributed',
      windows: 2,
      windowMs: 300,
      warmupMs: 200,
      connections: 4,
      print: false,
    });
    expectComparedWindows(rows, 2);
    // The admitted path pays for two Redis scripts and a Kafka publish that the shed path skips.
    const [shed, admitted] = rows;
    expect(admitted.thisCpuUs.median).toBeGreaterThan(shed.thisCpuUs.median);
  }, 90_000);
});
