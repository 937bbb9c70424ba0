import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findEncodedSegments, isPrintableText } from './encoded-segments.js';

describe('findEncodedSegments', () => {
  it('decodes base64, hex and percent-encoded text and gives byte offsets', () => {
    const secretText = 'password=hunter2-canary';
    const b64 = Buffer.from(secretText).toString('base64');
    const hex = Buffer.from('token: canary-0123456789').toString('hex');
    const text = Buffer.from(`a: ${b64}\nb: ${hex}\nc: user%3Apass%40host\n`);
    const segments = findEncodedSegments(text);
    expect(segments.map((s) => [s.kind, s.decoded.toString()])).toEqual([
      ['base64', secretText],
      ['hex', 'token: canary-0123456789'],
      ['percent', ':pass@'],
    ]);
    const first = segments[0];
    expect(text.subarray(first?.start, first?.end).toString()).toBe(b64);
  });

  it('drops runs whose decoding is not printable text, and plain identifiers', () => {
    const binary = Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255, 9, 8]).toString('base64');
    expect(findEncodedSegments(Buffer.from(`x = "${binary}"; getOwnPropertyDescriptor`))).toEqual([]);
    expect(isPrintableText(Buffer.from('ok\tfine\n'))).toBe(true);
    expect(isPrintableText(Buffer.from([0x41, 0x00]))).toBe(false);
  });
});

/** The decoding rules spelled out plainly over every maximal run, to check the skipping scanner against. */
function naiveSegments(text: string): Array<[string, number, number, string]> {
  const found: Array<[string, number, number, string]> = [];
  for (const run of text.matchAll(/[A-Za-z0-9+/_-]{16,}/g)) {
    const body = run[0];
    const start = run.index ?? 0;
    let decoded: Buffer;
    let kind = 'base64';
    let end = start + body.length;
    if (/^[0-9A-Fa-f]+$/.test(body) && body.length >= 32) {
      if (body.length % 2 !== 0) continue;
      kind = 'hex';
      decoded = Buffer.from(body, 'hex');
    } else {
      const padding = /^={0,2}/.exec(text.slice(end))?.[0] ?? '';
      const other = /[^A-Za-z]/.test(body) || padding.length > 0;
      if (!(/[A-Z]/.test(body) && /[a-z]/.test(body) && (other || body.length >= 20))) continue;
      if (body.length % 4 === 1) continue;
      decoded = Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      end += padding.length;
    }
    if (decoded.length < 6 || !isPrintableText(decoded)) continue;
    found.push([kind, start, end, decoded.toString('latin1')]);
  }
  return found;
}

describe('findEncodedSegments on arbitrary text', () => {
  it('finds URL-safe base64 and padded base64, and reads a long all-hex run as hex', () => {
    const urlSafe = Buffer.from('>>>api_key=canary?value').toString('base64url');
    const padded = Buffer.from('secret: canary!').toString('base64');
    const hex = Buffer.from('canary-hex-secret-value').toString('hex');
    const text = Buffer.from(`${urlSafe} "${padded}" ${hex}`);
    expect(findEncodedSegments(text).map((s) => [s.kind, s.decoded.toString()])).toEqual([
      ['base64', '>>>api_key=canary?value'],
      ['base64', 'secret: canary!'],
      ['hex', 'canary-hex-secret-value'],
    ]);
  });

  it('agrees with a plain reading of every run, whatever the text', () => {
    const encodedText = fc
      .string({ minLength: 6, maxLength: 40 })
      .map((s) => s.replace(/[^\x20-\x7e]/g, 'x'))
      .chain((s) =>
        fc.constantFrom(
          Buffer.from(s).toString('base64'),
          Buffer.from(s).toString('hex'),
          Buffer.from(s).toString('base64url'),
        ),
      );
    const piece = fc.oneof(
      encodedText,
      fc.stringMatching(/^[A-Za-z0-9_]{1,30}$/),
      fc.constantFrom(' ', '\n', '"', '.', '=', '(', '%', ', '),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const text = pieces.join('');
        const expected = naiveSegments(text);
        const actual = findEncodedSegments(Buffer.from(text))
          .filter((s) => s.kind !== 'percent')
          .map((s) => [s.kind, s.start, s.end, s.decoded.toString('latin1')]);
        // A run overlapping a percent-encoded stretch belongs to it: compare only where no `%` escape is near.
        if (/%[0-9A-Fa-f]{2}/.test(text)) return;
        expect(actual).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
