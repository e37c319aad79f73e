import { randomBytes } from 'node:crypto';

const NONCE = randomBytes(9).toString('base64url');
// JSON.stringify writes the NUL that opens a stand-in as the six characters \u0000.
const STAND_IN = new RegExp(`"\\\\u0000${NONCE}:(\\d+)"`, 'g');

/**
 * Images inlined into JSON bodies as base64 (`b64_json`) without passing them through
 * JSON.stringify: a response holds a short stand-in string per image, and `json()` writes the
 * document as bytes with each image's base64 copied in place. A 512² result is ≈ 0.8 MB of base64;
 * stringified, measured again for Content-Length and re-encoded to UTF-8 on write, it cost the
 * gateway's event loop about three times what this does, time in which every refusal waits; the
 * large strings it left also forced frequent full garbage collections.
 */
export class InlineBlobs {
  private blobs: Uint8Array[] = [];

  /** A stand-in for `bytes`; only this instance's `json()` turns it back into base64. */
  add(bytes: Uint8Array): string {
    return `\u0000${NONCE}:${this.blobs.push(bytes) - 1}`;
  }

  /** `value` as JSON bytes (between `prefix` and `suffix`); the stand-ins added so far are used up. */
  json(value: unknown, prefix = '', suffix = ''): Buffer<ArrayBuffer> {
    const text = prefix + JSON.stringify(value) + suffix;
    const blobs = this.blobs;
    this.blobs = [];
    if (blobs.length === 0) return Buffer.from(text);
    const parts: (string | Uint8Array)[] = [];
    let last = 0;
    for (const m of text.matchAll(STAND_IN)) {
      const blob = blobs[Number(m[1])];
      if (!blob) continue;
      parts.push(text.slice(last, m.index), blob);
      last = m.index + m[0].length;
    }
    parts.push(text.slice(last));
    return assemble(parts);
  }
}

function assemble(parts: (string | Uint8Array)[]): Buffer<ArrayBuffer> {
  let size = 0;
  for (const p of parts) size += typeof p === 'string' ? Buffer.byteLength(p) : base64Length(p.length) + 2;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of parts) {
    if (typeof p === 'string') {
      at += out.write(p, at, 'utf8');
      continue;
    }
    out[at++] = QUOTE;
    at = writeBase64(p, out, at);
    out[at++] = QUOTE;
  }
  return out;
}

const QUOTE = 0x22;
// Whole groups of 3 bytes, so the chunks' base64 joins up; 48 KiB in → 64 KiB out, small enough
// for V8's young generation, where dead strings cost nothing. One string for a whole image would
// land in large-object space and, a few images later, force a full mark-compact.
const CHUNK = 3 * 16 * 1024;

const base64Length = (n: number) => Math.ceil(n / 3) * 4;

function writeBase64(bytes: Uint8Array, out: Buffer, at: number): number {
  const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let written = at;
  for (let i = 0; i < src.length; i += CHUNK) {
    // Base64 is ASCII: a Latin-1 write is a plain copy.
    written += out.write(src.subarray(i, i + CHUNK).toString('base64'), written, 'latin1');
  }
  return written;
}
