import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainCopy } from '../../common/plain-copy.ts';

describe('plainCopy', () => {
  it('copies plain data deeply, equal to structuredClone and sharing nothing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = plainCopy(value);
        expect(copy).toStrictEqual(structuredClone(value));
        if (typeof value === 'object' && value !== null) expect(copy).not.toBe(value);
      }),
    );
  });

  it('keeps undefined fields and copies byte arrays, as structuredClone does', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const value = { mask: undefined, data: bytes, nested: { list: [{ a: 1 }] } };
    const copy = plainCopy(value);
    expect(copy).toStrictEqual(structuredClone(value));
    expect('mask' in copy).toBe(true);
    copy.data[0] = 9;
    copy.nested.list[0].a = 2;
    expect(bytes[0]).toBe(1);
    expect(value.nested.list[0].a).toBe(1);
  });

  it('keeps an own "__proto__" key as data', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}');
    const copy = plainCopy(value);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(copy).toStrictEqual(structuredClone(value));
  });

  it('refuses what a real store could not hold, naming where it is', () => {
    class Job {}
    expect(() => plainCopy({ a: [1, { b: new Map() }] })).toThrow('$.a[1].b is a Map, not plain data');
    expect(() => plainCopy({ at: new Date() })).toThrow('$.at is a Date');
    expect(() => plainCopy([new Job()])).toThrow('$[0] is a Job');
    expect(() => plainCopy({ f: () => 1 })).toThrow('$.f is a function');
    expect(() => plainCopy({ n: 1n })).toThrow('$.n is a bigint');
  });
});
