/**
 * A deep copy of plain data (objects, arrays, strings, numbers, booleans, null, undefined, byte
 * arrays): what the in-memory stores hand in and out, so a caller never shares an object with the
 * store, as with a real one.
 *
 * Why not structuredClone: on Node 20 it costs about 10 µs for a job record against 2 µs here
 * (it goes through V8's serialiser and back), and an admitted job takes two copies on the
 * gateway's hot path (record and `queued` event). Anything a real store could not hold either (a class
 * instance, a Map, a Date, a function) is refused with a TypeError naming where it is, so a
 * stand-in never accepts what Redis would mangle.
 */
export function plainCopy<T>(value: T): T {
  try {
    return copy(value) as T;
  } catch (err) {
    if (!(err instanceof NotPlain)) throw err;
    throw new TypeError(`plainCopy: $${err.path.reverse().join('')} is a ${err.kind}, not plain data`);
  }
}

/** Thrown from deep inside; the path is collected while unwinding, so a copy builds no strings. */
class NotPlain extends Error {
  readonly path: string[] = [];
  constructor(readonly kind: string) {
    super(kind);
  }
}

function copy(value: unknown): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'object':
      break;
    default:
      throw new NotPlain(typeof value);
  }
  if (Array.isArray(value)) return copyArray(value);
  if (value instanceof Uint8Array) return new Uint8Array(value);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null)
    throw new NotPlain((proto as { constructor?: { name?: string } }).constructor?.name || 'object');
  return copyObject(value as Record<string, unknown>);
}

function copyArray(value: unknown[]): unknown[] {
  const out = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    try {
      out[i] = copy(value[i]);
    } catch (err) {
      if (err instanceof NotPlain) err.path.push(`[${i}]`);
      throw err;
    }
  }
  return out;
}

function copyObject(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    try {
      const v = copy(value[key]);
      // An own "__proto__" (JSON.parse makes one) must stay data, not become the prototype.
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
    } catch (err) {
      if (err instanceof NotPlain) err.path.push(`.${key}`);
      throw err;
    }
  }
  return out;
}
