import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EmbeddedFaultHooks } from '../../bin/embedded-fault-hooks.ts';
import { faultHooksWanted, listenForFaultHooks } from '../../bin/fault-hook-listener.ts';
import { FAULT_HOOKS_CHANNEL, type HookReply } from '../../common/contracts/fault-hooks.ts';
import { FaultSwitches } from '../../common/fault-switches.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import type { ModelRunner } from '../../inference/model-runner.ts';
import { WorkerFleet } from '../../inference/worker-fleet.ts';

const log = pino({ level: 'silent' });

/** A child's IPC end: requests are emitted on it, replies collected from send. */
function fakePort() {
  const port = Object.assign(new EventEmitter(), { replies: [] as HookReply[] });
  const send = (m: unknown) => {
    port.replies.push(m as HookReply);
    return true;
  };
  return Object.assign(port, { send });
}

function setup() {
  const switches = new FaultSwitches();
  const models = { close: async () => {} } as unknown as ModelRunner;
  const fleet = new WorkerFleet({
    baseId: 'w',
    infra: createMemoryInfra(),
    models,
    startWorker: async () => ({ close: async () => {}, crash: async () => {} }),
    startModels: async () => models,
  });
  const port = fakePort();
  const listener = listenForFaultHooks(port, new EmbeddedFaultHooks(switches, fleet), log);
  let id = 0;
  /** Sends a request and waits for its reply. */
  const ask = async (body: Record<string, unknown>): Promise<HookReply> => {
    const request = { channel: FAULT_HOOKS_CHANNEL, id: ++id, ...body };
    port.emit('message', request);
    for (let i = 0; i < 100; i++) {
      const reply = port.replies.find((r) => r.id === request.id);
      if (reply) return reply;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no reply to ${JSON.stringify(request)}`);
  };
  return { switches, fleet, port, listener, ask };
}

describe('fault hook listener', () => {
  it('is wanted only when asked for by the environment and spawned with an IPC channel', () => {
    const withIpc = { on: () => {}, off: () => {}, send: () => true };
    expect(faultHooksWanted({ SPILLWAY_FAULT_HOOKS: '1' }, withIpc)).toBe(true);
    expect(faultHooksWanted({}, withIpc)).toBe(false);
    expect(faultHooksWanted({ SPILLWAY_FAULT_HOOKS: '1' }, { on: () => {}, off: () => {} })).toBe(false);
  });

  it('applies a fault, answers with its note and undo token, and undoes it by that token', async () => {
    const { switches, ask } = setup();
    const applied = await ask({ op: 'apply', fault: { kind: 'slow-store', latencyMs: 150 } });
    expect(applied).toMatchObject({
      ok: true,
      note: expect.stringMatching(/^\+150 ms before every job-store/),
    });
    expect(switches.before('store')).toBeInstanceOf(Promise);
    const token = (applied as { token: string }).token;
    expect(await ask({ op: 'undo', token })).toMatchObject({ ok: true });
    expect(switches.before('store')).toBeUndefined();
    expect(await ask({ op: 'undo', token })).toMatchObject({ ok: false, code: 'hook_unknown_token' });
  });

  it('kills and restores workers through the fleet', async () => {
    const { fleet, ask } = setup();
    await fleet.start(2);
    const applied = await ask({ op: 'apply', fault: { kind: 'kill-workers', fraction: 0.5 } });
    expect(applied).toMatchObject({
      ok: true,
      note: expect.stringMatching(/^killed 1 of 2 inference workers/),
    });
    expect(fleet.ids()).toEqual(['w-1']);
    await ask({ op: 'undo', token: (applied as { token: string }).token });
    expect(fleet.ids()).toEqual(['w-1', 'w-3']);
  });

  it('answers a malformed request with an error code, and a failed fault with its own', async () => {
    const { ask } = setup();
    expect(await ask({ op: 'apply', fault: { kind: 'slow-blob', latencyMs: 10 } })).toMatchObject({
      ok: false,
      code: 'hook_invalid_request',
    });
    expect(await ask({ op: 'explode' })).toMatchObject({ ok: false, code: 'hook_invalid_request' });
    // No worker is running: there is nothing to kill.
    expect(await ask({ op: 'apply', fault: { kind: 'kill-workers', fraction: 0.5 } })).toMatchObject({
      ok: false,
      code: 'fault_failed',
    });
  });

  it('ignores messages that are not on its channel', async () => {
    const { port } = setup();
    port.emit('message', { id: 1, op: 'apply', fault: { kind: 'restart-redis' } });
    port.emit('message', 'hello');
    await new Promise((r) => setTimeout(r, 20));
    expect(port.replies).toEqual([]);
  });

  it('on close stops listening and undoes what is still applied', async () => {
    const { switches, port, listener, ask } = setup();
    await ask({ op: 'apply', fault: { kind: 'restart-redis' } });
    await ask({ op: 'apply', fault: { kind: 'restart-kafka' } });
    expect(switches.queueDown()).toBe(true);
    await listener.close();
    expect(switches.queueDown()).toBe(false);
    expect(switches.before('store')).toBeUndefined();
    expect(port.listenerCount('message')).toBe(0);
  });
});
