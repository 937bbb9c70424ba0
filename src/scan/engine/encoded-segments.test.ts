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
