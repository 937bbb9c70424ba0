// Finds base64, hex and percent-encoded runs in text and decodes those that turn out to be printable text, so
// that a secret hidden one or more encodings deep (a base64 Kubernetes secret, a URL-encoded connection string)
// is scanned like plain text. Decoded output that is not printable (images, fonts, hashes) is dropped.
//
// Source code is full of long identifiers that look like base64, so this runs as one allocation-free pass over
// the bytes with a character-class table, and decodes a candidate group by group into scratch memory, giving up
// at the first byte that is not printable: an identifier such as `getOwnPropertyDescriptor` is rejected after
// its first four characters. Only a run that decodes entirely to text is copied out.

export type EncodingKind = 'percent' | 'hex' | 'base64';

export interface EncodedSegment {
  kind: EncodingKind;
  /** Byte offsets of the encoded run in the text it was found in. */
  start: number;
  end: number;
  decoded: Buffer;
}

/** Shortest runs worth decoding (gitleaks' lengths): 16 base64 characters, 32 hex digits. */
const MIN_BASE64_RUN = 16;
const MIN_HEX_RUN = 32;
/** Decoding that yields less than this cannot hold a secret worth a pass. */
const MIN_DECODED_BYTES = 6;

const BASE64_CHAR = 1;
const HEX_CHAR = 2;
const UPPER = 4;
const LOWER = 8;
const PERCENT = 0x25;
const EQUALS = 0x3d;
const NEWLINE = 0x0a;

/** Per byte: the character-class bits above. */
const CLASS = new Uint8Array(256);
/** Per byte: its base64 value (standard and URL-safe alphabets both), or 255. */
const BASE64_VALUE = new Uint8Array(256).fill(255);
/** Per byte: its hex digit value, or 255. */
const HEX_VALUE = new Uint8Array(256).fill(255);
/** Per byte: 1 when printable ASCII, tab, newline or carriage return. */
const PRINTABLE = new Uint8Array(256);

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
for (let value = 0; value < 64; value++) BASE64_VALUE[ALPHABET.charCodeAt(value)] = value;
BASE64_VALUE[0x2d] = 62; // '-' (URL-safe)
BASE64_VALUE[0x5f] = 63; // '_' (URL-safe)
for (let byte = 0; byte < 256; byte++) {
  if (BASE64_VALUE[byte] !== 255) CLASS[byte] = (CLASS[byte] as number) | BASE64_CHAR;
  if (byte >= 0x41 && byte <= 0x5a) CLASS[byte] = (CLASS[byte] as number) | UPPER;
  if (byte >= 0x61 && byte <= 0x7a) CLASS[byte] = (CLASS[byte] as number) | LOWER;
  PRINTABLE[byte] = (byte >= 0x20 && byte <= 0x7e) || byte === 0x09 || byte === 0x0a || byte === 0x0d ? 1 : 0;
}
'0123456789abcdefABCDEF'.split('').forEach((char) => {
  const byte = char.charCodeAt(0);
  CLASS[byte] = (CLASS[byte] as number) | HEX_CHAR;
  HEX_VALUE[byte] = Number.parseInt(char, 16);
});

/** True for text made of printable ASCII and whitespace: decoded secrets are text, decoded noise is not. */
export function isPrintableText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  for (let i = 0; i < bytes.length; i++) if (PRINTABLE[bytes[i] as number] === 0) return false;
  return true;
}

/** Scratch memory for decoding, grown on demand; a decoded run is copied out only when it is kept. */
let scratch = Buffer.allocUnsafe(4096);

function scratchFor(length: number): Buffer {
  if (scratch.length < length) scratch = Buffer.allocUnsafe(Math.max(length, scratch.length * 2));
  return scratch;
}

/** Decodes base64 text[start, end) (no padding) if every decoded byte is printable; undefined otherwise. */
function decodeBase64Run(text: Uint8Array, start: number, end: number): Buffer | undefined {
  const length = end - start;
  if (length % 4 === 1) return undefined;
  const out = scratchFor(Math.ceil((length * 3) / 4));
  let written = 0;
  let at = start;
  const whole = start + length - (length % 4);
  for (; at < whole; at += 4) {
    const a = BASE64_VALUE[text[at] as number] as number;
    const b = BASE64_VALUE[text[at + 1] as number] as number;
    const c = BASE64_VALUE[text[at + 2] as number] as number;
    const d = BASE64_VALUE[text[at + 3] as number] as number;
    const first = (a << 2) | (b >> 4);
    const second = ((b & 15) << 4) | (c >> 2);
    const third = ((c & 3) << 6) | d;
    if (PRINTABLE[first] === 0 || PRINTABLE[second] === 0 || PRINTABLE[third] === 0) return undefined;
    out[written++] = first;
    out[written++] = second;
    out[written++] = third;
  }
  const rest = end - at;
  if (rest >= 2) {
    const a = BASE64_VALUE[text[at] as number] as number;
    const b = BASE64_VALUE[text[at + 1] as number] as number;
    const first = (a << 2) | (b >> 4);
    if (PRINTABLE[first] === 0) return undefined;
    out[written++] = first;
    if (rest === 3) {
      const c = BASE64_VALUE[text[at + 2] as number] as number;
      const second = ((b & 15) << 4) | (c >> 2);
      if (PRINTABLE[second] === 0) return undefined;
      out[written++] = second;
    }
  }
  if (written < MIN_DECODED_BYTES) return undefined;
  return Buffer.from(out.subarray(0, written));
}

/** Decodes hex text[start, end) if every decoded byte is printable; undefined otherwise. */
function decodeHexRun(text: Uint8Array, start: number, end: number): Buffer | undefined {
  if ((end - start) % 2 !== 0) return undefined;
  const out = scratchFor((end - start) / 2);
  let written = 0;
  for (let at = start; at < end; at += 2) {
    const byte = ((HEX_VALUE[text[at] as number] as number) << 4) | (HEX_VALUE[text[at + 1] as number] as number);
    if (PRINTABLE[byte] === 0) return undefined;
    out[written++] = byte;
  }
  if (written < MIN_DECODED_BYTES) return undefined;
  return Buffer.from(out.subarray(0, written));
}

/** Whether text[at, at + 3) is a `%XX` escape. */
function isPercentEscape(text: Uint8Array, at: number): boolean {
  return (
    at + 2 < text.length &&
    text[at] === PERCENT &&
    HEX_VALUE[text[at + 1] as number] !== 255 &&
    HEX_VALUE[text[at + 2] as number] !== 255
  );
}

/** Decodes `%XX` escapes in text[start, end), keeping other bytes; undefined unless printable and changed. */
function decodePercentRun(text: Uint8Array, start: number, end: number): Buffer | undefined {
  const out = scratchFor(end - start);
  let written = 0;
  for (let at = start; at < end; at++) {
    if (isPercentEscape(text, at) && at + 2 < end) {
      out[written++] =
        ((HEX_VALUE[text[at + 1] as number] as number) << 4) | (HEX_VALUE[text[at + 2] as number] as number);
      at += 2;
    } else {
      out[written++] = text[at] as number;
    }
  }
  const decoded = out.subarray(0, written);
  if (written < MIN_DECODED_BYTES || !isPrintableText(decoded)) return undefined;
  return Buffer.from(decoded);
}

/**
 * The percent-encoded run starting at the escape at `start`: up to the end of the last escape on the same line
 * (so `user%3Apass%40host` is one run from `%3A` to `%40`).
 */
function percentRunEnd(text: Uint8Array, start: number): number {
  let end = start + 3;
  for (let at = end; at < text.length && text[at] !== NEWLINE; at++) {
    if (isPercentEscape(text, at)) {
      end = at + 3;
      at += 2;
    }
  }
  return end;
}

/**
 * Whether a base64 candidate is worth decoding at all: identifiers in one case without digits rarely are
 * encodings, while base64 of text mixes cases (and, short of 20 characters, has a digit or symbol too).
 */
function plausibleBase64(classes: number, length: number, hasOther: boolean): boolean {
  return (classes & UPPER) !== 0 && (classes & LOWER) !== 0 && (hasOther || length >= 20);
}

/** What a run of base64 characters is made of: the class bits seen, and whether all are hex digits. */
function runComposition(
  text: Uint8Array,
  start: number,
  end: number,
): { classes: number; allHex: boolean; hasOther: boolean } {
  let classes = 0;
  let allHex = true;
  let hasOther = false;
  for (let at = start; at < end; at++) {
    const cls = CLASS[text[at] as number] as number;
    classes |= cls;
    if ((cls & HEX_CHAR) === 0) allHex = false;
    if ((cls & (UPPER | LOWER)) === 0) hasOther = true;
  }
  return { classes, allHex, hasOther };
}

/** The percent-encoded runs of `text` whose decoding is printable text (found with native searches for `%`). */
function findPercentSegments(text: Buffer): EncodedSegment[] {
  const segments: EncodedSegment[] = [];
  for (let at = text.indexOf(PERCENT); at >= 0; at = text.indexOf(PERCENT, at + 1)) {
    if (!isPercentEscape(text, at)) continue;
    const end = percentRunEnd(text, at);
    const decoded = decodePercentRun(text, at, end);
    if (decoded !== undefined) segments.push({ kind: 'percent', start: at, end, decoded });
    at = end - 1;
  }
  return segments;
}

/**
 * Decodes the base64 or hex run text[start, end) if it is worth it; records it in `segments`. The base64 decode
 * comes first because it gives up within a few characters on almost every run; what the run is made of (all hex,
 * mixed case) is worked out only for the few runs that get further.
 */
function decodeRun(text: Uint8Array, start: number, end: number, segments: EncodedSegment[]): void {
  const runLength = end - start;
  const asBase64 = decodeBase64Run(text, start, end);
  if (asBase64 === undefined && runLength < MIN_HEX_RUN) return;
  const { classes, allHex, hasOther } = runComposition(text, start, end);
  if (allHex && runLength >= MIN_HEX_RUN) {
    const decoded = decodeHexRun(text, start, end);
    if (decoded !== undefined) segments.push({ kind: 'hex', start, end, decoded });
    return;
  }
  if (asBase64 === undefined) return;
  let padded = end;
  while (padded < text.length && padded - end < 2 && text[padded] === EQUALS) padded++;
  if (!plausibleBase64(classes, runLength, hasOther || padded > end)) return;
  segments.push({ kind: 'base64', start, end: padded, decoded: asBase64 });
}

/**
 * The base64 and hex runs of at least MIN_BASE64_RUN characters. Probes every 16th byte: when the probe is not a
 * run character, no long run can hold it, so the 16 bytes before it are skipped unread. Source code is made of
 * short words, so most of the text is never looked at byte by byte.
 */
function findBase64AndHexSegments(text: Uint8Array, segments: EncodedSegment[]): void {
  const length = text.length;
  const probe = MIN_BASE64_RUN - 1;
  let at = 0;
  while (at + probe < length) {
    if (((CLASS[text[at + probe] as number] as number) & BASE64_CHAR) === 0) {
      at += MIN_BASE64_RUN;
      continue;
    }
    // The probe sits in a run: find where the run starts (not before `at`) and ends.
    let start = at + probe;
    while (start > at && ((CLASS[text[start - 1] as number] as number) & BASE64_CHAR) !== 0) start--;
    let end = at + probe + 1;
    while (end < length && ((CLASS[text[end] as number] as number) & BASE64_CHAR) !== 0) end++;
    if (end - start >= MIN_BASE64_RUN) decodeRun(text, start, end, segments);
    at = end + 1;
  }
}

/** The encoded runs of `text` whose decoding is printable text, in order. */
export function findEncodedSegments(text: Buffer): EncodedSegment[] {
  const percent = findPercentSegments(text);
  const runs: EncodedSegment[] = [];
  findBase64AndHexSegments(text, runs);
  if (percent.length === 0) return runs;
  // A run inside a percent-encoded stretch is part of it, not an encoding of its own.
  const outside = runs.filter((run) => !percent.some((p) => run.start < p.end && p.start < run.end));
  return [...percent, ...outside].sort((a, b) => a.start - b.start);
}
