/**
 * Response bodies as the load generator needs them: what kind of ending a body states, never the
 * images it carries. A completed 512² generation is half a megabyte of base64, a stream with
 * partials several; joined into one buffer or decoded into one string per response, they kept the
 * generator's garbage collector busy enough to add milliseconds to the refusals it was timing.
 * Chunks are looked at as they arrive and dropped.
 */
type Body = AsyncIterable<Uint8Array>;

const NEWLINE = 0x0a;

/** Reads the body to its end and keeps nothing (the connection is reused only once it is read). */
export async function drainBody(body: Body): Promise<number> {
  let bytes = 0;
  for await (const chunk of body) bytes += chunk.length;
  return bytes;
}

/** The first `limit` bytes as text, and whether that was all of it; the rest is read and dropped. */
export async function readHead(body: Body, limit: number): Promise<{ head: string; complete: boolean }> {
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (keptBytes >= limit) continue;
    const part = chunk.subarray(0, limit - keptBytes);
    kept.push(part);
    keptBytes += part.length;
  }
  return { head: Buffer.concat(kept).toString('utf8'), complete: bytes <= limit };
}

export type SseEnding =
  | { kind: 'completed' }
  /** A `data:` line with an error envelope (OpenAI sends it with no `event:` line). */
  | { kind: 'error'; data: string }
  | { kind: 'truncated' };

/**
 * Splits an event stream into lines but keeps only each line's first `headBytes`: enough for an
 * `event:` name or a whole error envelope, never a partial image's base64.
 */
export async function sseEnding(body: Body, headBytes = 4096): Promise<SseEnding> {
  let ending: SseEnding = { kind: 'truncated' };
  let head: Uint8Array[] = [];
  let headLength = 0;
  const endLine = () => {
    const line = Buffer.concat(head).toString('utf8');
    head = [];
    headLength = 0;
    if (ending.kind !== 'truncated') return;
    if (/^event:\s*image_(generation|edit)\.completed\s*$/.test(line)) ending = { kind: 'completed' };
    else if (line.startsWith('data:') && line.includes('"error"') && !line.includes('"type":"image_')) {
      ending = { kind: 'error', data: line.slice(5).trim() };
    }
  };
  for await (const chunk of body) {
    let from = 0;
    while (from <= chunk.length) {
      const nl = chunk.indexOf(NEWLINE, from);
      const to = nl < 0 ? chunk.length : nl;
      if (headLength < headBytes && to > from) {
        const part = chunk.subarray(from, Math.min(to, from + headBytes - headLength));
        head.push(part);
        headLength += part.length;
      }
      if (nl < 0) break;
      endLine();
      from = nl + 1;
    }
  }
  if (headLength > 0) endLine();
  return ending;
}
