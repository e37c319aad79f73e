import { z } from 'zod';

/**
 * What a controller leader stores with each admission state it publishes, for its successor: its
 * memory of the control loop (learned capacity, demand, each lane's law state), so a failover
 * carries on instead of learning capacity from nothing while the static fallback rates admit.
 * The stores keep it as JSON and do not look inside; `v` is the shape of the memory (the
 * controller's HANDOVER_VERSION) and a successor ignores a handover of another shape.
 */
export const ControllerHandover = z.object({
  v: z.number().int().min(1),
  /** The lease epoch of the leader that wrote it. */
  epoch: z.number().int().min(0),
  at: z.number().int(),
  memory: z.record(z.string(), z.unknown()),
});
export type ControllerHandover = z.infer<typeof ControllerHandover>;

/** A stored handover (JSON), or null when it is not one: written by another version, or damaged. */
export function parseHandover(json: string): ControllerHandover | null {
  try {
    const parsed = ControllerHandover.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
