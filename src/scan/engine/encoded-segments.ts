// Finds base64, hex and percent-encoded runs in text and decodes those that turn out to be printable text, so
// that a secret hidden one or more encodings deep (a base64 Kubernetes secret, a URL-encoded connection string)
// is scanned like plain text. Decoded output that is not printable (images, fonts, hashes) is dropped.
import RE2 from 're2';

export type EncodingKind = 'percent' | 'hex' | 'base64';

export interface EncodedSegment {
  kind: EncodingKind;
  /** Byte offsets of the encoded run in the text it was found in. */
  start: number;
  end: number;
  decoded: Buffer;
}

// One pass finds all three kinds; percent first so `%41%42` is not read as base64. Lengths follow gitleaks'.
const SEGMENT = new RE2('(%[0-9A-Fa-f]{2}(?:.*%[0-9A-Fa-f]{2})?)|([0-9A-Fa-f]{32,})|([\\w/+-]{16,}={0,2})', 'g');

/** True for text made of printable ASCII and whitespace: decoded secrets are text, decoded noise is not. */
export function isPrintableText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte >= 0x20 ? byte > 0x7e : byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return true;
}

function decodePercent(text: Buffer): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i] as number;
    if (byte === 0x25 && i + 2 < text.length + 0) {
      const pair = text.toString('latin1', i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(pair)) {
        out[length++] = Number.parseInt(pair, 16);
        i += 2;
        continue;
      }
    }
    out[length++] = byte;
  }
  return out.subarray(0, length);
}

/** Whether a base64 candidate is worth decoding: identifiers (one case, no digits) rarely are encodings. */
function plausibleBase64(text: Buffer): boolean {
  let upper = false;
  let lower = false;
  let other = false;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i] as number;
    if (byte >= 0x41 && byte <= 0x5a) upper = true;
    else if (byte >= 0x61 && byte <= 0x7a) lower = true;
    else other = true;
  }
  return upper && lower && (other || text.length >= 20);
}

function decode(kind: EncodingKind, text: Buffer): Buffer | undefined {
  let decoded: Buffer;
  if (kind === 'percent') {
    decoded = decodePercent(text);
  } else if (kind === 'hex') {
    if (text.length % 2 !== 0) return undefined;
    decoded = Buffer.from(text.toString('latin1'), 'hex');
  } else {
    if (!plausibleBase64(text)) return undefined;
    // Printable text encodes to groups whose first character is A-Z or a-f (a byte below 0x80): checking the
    // first 8 characters rejects almost every identifier before the whole run is decoded.
    const first = text[0] as number;
    if (!((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x66))) return undefined;
    if (!isPrintableText(Buffer.from(text.toString('latin1', 0, 8), 'base64'))) return undefined;
    const body = text.toString('latin1').replace(/=+$/, '');
    if (body.length % 4 === 1) return undefined;
    decoded = Buffer.from(body, 'base64');
  }
  // Decoding that changes nothing, or yields too little to hold a secret, is not worth a pass.
  if (decoded.length < 6 || decoded.equals(text)) return undefined;
  return isPrintableText(decoded) ? decoded : undefined;
}

/** The encoded runs of `text` whose decoding is printable text. */
export function findEncodedSegments(text: Buffer): EncodedSegment[] {
  // One native call returns every candidate run; positions are recovered with indexOf (also native), which
  // avoids one exec round trip per candidate: long identifiers make candidates plentiful in source code.
  const runs = (SEGMENT.match(text) ?? []) as unknown as Buffer[];
  const segments: EncodedSegment[] = [];
  let from = 0;
  for (const run of runs) {
    const start = text.indexOf(run, from);
    if (start < 0) continue;
    from = start + run.length;
    const first = run[0] as number;
    const kind: EncodingKind = first === 0x25 ? 'percent' : /^[0-9A-Fa-f]+$/.test(run.toString('latin1')) && run.length >= 32 ? 'hex' : 'base64';
    const decoded = decode(kind, run);
    if (decoded !== undefined) segments.push({ kind, start, end: from, decoded });
  }
  return segments;
}
