import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../secrets/secret-value.js';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('sorts keys by UTF-16 code units, as RFC 8785 does', () => {
    // '\u20ac' (euro) sorts before '\ud83d\ude00' (emoji) by code unit, and capitals before lower case.
    expect(canonicalJson({ '😀': 1, '€': 2, a: 3, B: 4 })).toBe('{"B":4,"a":3,"€":2,"😀":1}');
  });

  it('writes numbers and strings as JSON does', () => {
    expect(canonicalJson([1e21, 0.1, -0, 5, 'line\n"quote"', '\u2028'])).toBe(
      '[1e+21,0.1,0,5,"line\\n\\"quote\\"","\u2028"]',
    );
  });

  it('leaves out undefined properties and uses toJSON', () => {
    expect(
      canonicalJson({ a: undefined, at: new Date('2026-04-01T10:00:00Z'), secret: new SecretValue('sk_live_x') }),
    ).toBe('{"at":"2026-04-01T10:00:00.000Z","secret":"[REDACTED]"}');
  });

  it('refuses what JSON.stringify would silently mangle, naming where', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow('$.a[1]: NaN is not a JSON number');
    expect(() => canonicalJson({ n: 1n })).toThrow(/\$\.n: bigint cannot/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function cannot/);
    expect(() => canonicalJson([undefined])).toThrow(/\$\[0\]: undefined cannot/);
    expect(() => canonicalJson({ m: new Map() })).toThrow(/Map has no JSON form/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => canonicalJson(cycle)).toThrow(/\$\.self: circular reference/);
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('round-trips: parsing the text and writing it again gives the same text, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on the order keys were inserted in', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(record));
      }),
    );
  });
});
