// Cuts a stream of JSON text into records without holding more than one record in memory, whatever the export's
// shape: JSON lines (GCP, GitLab's api_json.log, most SIEM exports), one top-level array (GitHub's audit-log
// export), or an envelope object whose array holds the records (CloudTrail's `{"Records":[...]}`, the APIs'
// `{"data":[...]}` / `{"value":[...]}` pages). A CloudTrail file is one JSON document that can run to hundreds of
// megabytes, so parsing it whole (JSON.parse) is not an option; a general streaming JSON parser builds every value
// token by token and is several times slower than cutting each record out and handing it to JSON.parse, which is
// what this does. Bad input (truncated, unbalanced, too deep, too large, not JSON) becomes a problem item naming
// the record's position, and reading goes on with the next record.

import { StringDecoder } from 'node:string_decoder';

export interface JsonRecordStreamOptions {
  /** Keys of a top-level object whose array value holds the records (`Records`, `data`, `value`...). */
  envelopeKeys: readonly string[];
  /** A record larger than this is reported, not parsed (default 8 MiB). */
  maxRecordBytes?: number;
  /** A record nested deeper than this is reported, not parsed (default 256). */
  maxDepth?: number;
}

export type JsonRecordItem =
  | { value: unknown; index: number; line: number }
  | { error: string; index: number; line: number };

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const COLON = 0x3a;
const COMMA = 0x2c;

/** The layouts a top-level value can have; decided by its first byte and, for objects, by their keys. */
type Layout =
  /** Between top-level values. */
  | 'top'
  /** Inside a top-level array: its elements are the records. */
  | 'array'
  /** Inside a top-level object not yet known to be an envelope: it is buffered, as it may be a record itself. */
  | 'object'
  /** Inside an envelope object: the elements of its records array are the records; other fields are ignored. */
  | 'envelope'
  /** One record per line, decided once a first single-line object was seen at the top. */
  | 'lines';

const isSpace = (byte: number) => byte === 0x20 || byte === NEWLINE || byte === 0x0d || byte === 0x09;

/** The records of `input` one at a time (see jsonRecordBatches, which this flattens). */
export async function* jsonRecords(
  input: AsyncIterable<Buffer | string>,
  options: JsonRecordStreamOptions,
): AsyncGenerator<JsonRecordItem> {
  for await (const batch of jsonRecordBatches(input, options)) yield* batch;
}

/**
 * The records of `input`, handed over a chunk's worth at a time: one await per chunk rather than per record keeps
 * the async machinery out of the hot path (a million records would otherwise be a million promise round trips).
 */
export async function* jsonRecordBatches(
  input: AsyncIterable<Buffer | string>,
  options: JsonRecordStreamOptions,
): AsyncGenerator<JsonRecordItem[]> {
  const maxBytes = options.maxRecordBytes ?? 8 * 1024 * 1024;
  const maxDepth = options.maxDepth ?? 256;
  const envelopeKeys = new Set(options.envelopeKeys);

  let layout: Layout = 'top';
  let depth = 0;
  let line = 1;
  let index = 0;
  /** Depth of the container whose elements are records (array: 1, envelope array: 2); -1 when none is open. */
  let recordsAt = -1;
  /** The record being cut: its pieces, size, first line, and whether it is already known to be bad. */
  let pieces: Buffer[] = [];
  let capturing = false;
  let captureStart = 0;
  let captureBytes = 0;
  let captureLine = 0;
  let captureMultiline = false;
  let captureError: string | undefined;
  /** Inside a string: the next byte after the closing quote is what matters; strings may span chunks. */
  let inString = false;
  let stringAtDepth1 = false;
  let stringPieces: Buffer[] = [];
  /** Backslashes at the end of the string's text in earlier chunks, when the string spans chunks. */
  let carriedBackslashes = 0;
  let lastKeyAtDepth1 = '';
  let lastSignificant = 0;
  /** A scalar element (number, word) where a record was expected: reported once at its end. */
  let inScalar = false;
  /** Lines mode: text is decoded a chunk at a time (a character split across chunks waits in the decoder). */
  const decoder = new StringDecoder('utf8');
  /** Lines mode: the unfinished line carried over from the previous chunk. */
  let carry = '';
  /** Lines mode: the current line outgrew the limit; skip to its end. */
  let skippingLine = false;
  let out: JsonRecordItem[] = [];

  const finishRecord = (end: Buffer | undefined): JsonRecordItem => {
    if (end) pieces.push(end);
    const item = parseRecord(pieces, captureBytes, captureError, ++index, captureLine);
    pieces = [];
    capturing = false;
    captureBytes = 0;
    captureError = undefined;
    return item;
  };

  const parseLine = (raw: string, at: number): void => {
    const text = raw.trim();
    if (text === '') return;
    out.push(parseText(text, ++index, at));
  };

  /** Lines mode: every complete line of `chunk` from `start` on; the tail waits for the next chunk. */
  const cutLines = (chunk: Buffer, start: number): void => {
    const text = carry + decoder.write(start === 0 ? chunk : chunk.subarray(start));
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl === -1) break;
      if (skippingLine) {
        out.push({ error: `record larger than ${maxBytes} bytes`, index: ++index, line });
        skippingLine = false;
      } else {
        parseLine(text.slice(from, nl), line);
      }
      line += 1;
      from = nl + 1;
    }
    carry = text.slice(from);
    if (carry.length > maxBytes) {
      skippingLine = true;
      carry = '';
    }
  };

  let first = true;
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    let i = 0;
    const n = chunk.length;
    if (first && n > 0) {
      first = false;
      // A UTF-8 byte-order mark (Windows tools write one) is not part of the JSON.
      if (n >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    }

    if (layout === 'lines') {
      cutLines(chunk, i);
      yield out;
      out = [];
      continue;
    }

    if (capturing) captureStart = 0;
    // The next raw newline at or after i, found once per stretch: a single-line CloudTrail file has none, and
    // searching for one at every string would make a chunk quadratic.
    let nextNewline = chunk.indexOf(NEWLINE);
    while (i < n) {
      if (layout === 'lines') {
        // Switched mid-chunk: hand the rest of this chunk to the line cutter by re-entering the loop above.
        break;
      }
      if (inString) {
        // Jump to the next quote not escaped by an odd run of backslashes.
        let q = chunk.indexOf(QUOTE, i);
        for (;;) {
          if (q === -1) break;
          let backslashes = 0;
          for (let b = q - 1; b >= i && chunk[b] === BACKSLASH; b -= 1) backslashes += 1;
          // A run that began in an earlier chunk: count it there too.
          if (backslashes === q - i) backslashes += carriedBackslashes;
          if (backslashes % 2 === 0) break;
          q = chunk.indexOf(QUOTE, q + 1);
        }
        if (nextNewline !== -1 && nextNewline < i) nextNewline = chunk.indexOf(NEWLINE, i);
        const nl = nextNewline;
        if (nl !== -1 && (q === -1 || nl < q)) {
          // A raw newline cannot be inside a JSON string: the record is broken; resynchronise at this line.
          if (capturing) {
            captureError ??= 'unterminated string';
            pieces.push(chunk.subarray(captureStart, nl));
            out.push(finishRecord(undefined));
          } else {
            out.push({ error: 'unterminated string', index: ++index, line });
          }
          inString = false;
          stringPieces = [];
          depth = 0;
          recordsAt = -1;
          layout = 'top';
          line += 1;
          i = nl + 1;
          continue;
        }
        if (q === -1) {
          if (stringAtDepth1) stringPieces.push(chunk.subarray(i));
          // The string goes on in the next chunk: remember how many backslashes end this one (an escape may span).
          let run = 0;
          for (let b = n - 1; b >= i && chunk[b] === BACKSLASH; b -= 1) run += 1;
          carriedBackslashes = run === n - i ? carriedBackslashes + run : run;
          i = n;
          break;
        }
        carriedBackslashes = 0;
        if (stringAtDepth1) {
          stringPieces.push(chunk.subarray(i, q));
          lastKeyAtDepth1 = Buffer.concat(stringPieces).toString('utf8');
        }
        stringPieces = [];
        inString = false;
        lastSignificant = QUOTE;
        i = q + 1;
        continue;
      }

      const byte = chunk[i]!;
      if (byte === NEWLINE) {
        line += 1;
        if (capturing) captureMultiline = true;
        if (inScalar) inScalar = false;
        i += 1;
        continue;
      }
      if (isSpace(byte)) {
        i += 1;
        continue;
      }

      if (layout === 'top') {
        if (byte === OPEN_ARRAY) {
          layout = 'array';
          depth = 1;
          recordsAt = 1;
        } else if (byte === OPEN_OBJECT) {
          layout = 'object';
          depth = 1;
          capturing = true;
          captureStart = i;
          captureBytes = 0;
          captureLine = line;
          captureMultiline = false;
          lastKeyAtDepth1 = '';
        } else if (byte !== COMMA) {
          // Not JSON at the top: skip the line.
          out.push({ error: 'not a JSON object or array', index: ++index, line });
          const nl = chunk.indexOf(NEWLINE, i);
          i = nl === -1 ? n : nl;
          continue;
        }
        lastSignificant = byte;
        i += 1;
        continue;
      }

      // Inside a top-level value.
      if (byte === QUOTE) {
        inString = true;
        carriedBackslashes = 0;
        // Only a string that can be a key of the top-level object is kept (for envelope detection).
        stringAtDepth1 =
          depth === 1 && layout === 'object' && (lastSignificant === OPEN_OBJECT || lastSignificant === COMMA);
        if (depth === recordsAt && !capturing) {
          // A string where a record was expected.
          out.push({ error: 'record is not a JSON object', index: ++index, line });
          stringAtDepth1 = false;
        }
        i += 1;
        continue;
      }
      if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
        if (layout === 'object' && depth === 1 && byte === OPEN_ARRAY && lastSignificant === COLON) {
          if (envelopeKeys.has(lastKeyAtDepth1)) {
            // An envelope: drop what was buffered, its array's elements are the records.
            layout = 'envelope';
            capturing = false;
            pieces = [];
            captureBytes = 0;
            recordsAt = 2;
          }
        }
        if (depth === recordsAt && !capturing) {
          capturing = true;
          captureStart = i;
          captureBytes = 0;
          captureLine = line;
          captureError = undefined;
        }
        depth += 1;
        if (depth > maxDepth + 2 && capturing) captureError ??= `nested deeper than ${maxDepth}`;
        lastSignificant = byte;
        i += 1;
        continue;
      }
      if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
        depth -= 1;
        lastSignificant = byte;
        i += 1;
        if (depth === recordsAt && capturing) {
          captureBytes += i - captureStart;
          out.push(finishRecord(chunk.subarray(captureStart, i)));
          continue;
        }
        if (depth === recordsAt - 1 && recordsAt > 0) {
          // The records container closed.
          recordsAt = -1;
        }
        if (depth === 0) {
          if (layout === 'object' && capturing) {
            captureBytes += i - captureStart;
            const single = !captureMultiline;
            out.push(finishRecord(chunk.subarray(captureStart, i)));
            if (single) {
              // A single-line object at the top: JSON lines from here on. The rest of this chunk is cut by lines.
              layout = 'lines';
              cutLines(chunk, i);
              i = n;
              continue;
            }
          }
          layout = 'top';
          recordsAt = -1;
        } else if (depth < 0) {
          out.push({ error: 'unbalanced closing bracket', index: ++index, line });
          depth = 0;
          layout = 'top';
          recordsAt = -1;
        }
        continue;
      }
      if (depth === recordsAt && !capturing && byte !== COMMA && byte !== COLON) {
        if (!inScalar) {
          inScalar = true;
          out.push({ error: 'record is not a JSON object', index: ++index, line });
        }
      } else if (byte === COMMA) {
        inScalar = false;
      }
      lastSignificant = byte;
      i += 1;
    }

    if (capturing && layout !== 'lines') {
      const piece = chunk.subarray(captureStart, n);
      captureBytes += piece.length;
      if (captureBytes > maxBytes) {
        captureError ??= `record larger than ${maxBytes} bytes`;
      } else {
        pieces.push(piece);
      }
    }
    if (out.length) {
      yield out;
      out = [];
    }
  }

  if (layout === 'lines') {
    const rest = carry + decoder.end();
    if (skippingLine) out.push({ error: `record larger than ${maxBytes} bytes`, index: ++index, line });
    else parseLine(rest, line);
    if (out.length) yield out;
    return;
  }
  if (capturing || depth > 0 || inString) {
    out.push({ error: 'input ends inside a record (truncated)', index: ++index, line: capturing ? captureLine : line });
  }
  if (out.length) yield out;
}

function parseRecord(
  pieces: Buffer[],
  bytes: number,
  knownError: string | undefined,
  index: number,
  line: number,
): JsonRecordItem {
  if (knownError) return { error: knownError, index, line };
  const text = pieces.length === 1 ? pieces[0]!.toString('utf8') : Buffer.concat(pieces, bytes).toString('utf8');
  return parseText(text, index, line);
}

// V8's JSON.parse is iterative (a million nested arrays parse), so a deep line cannot overflow the stack here;
// the byte cutter above bounds depth anyway for the documents it cuts.
function parseText(text: string, index: number, line: number): JsonRecordItem {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { error: 'record is not a JSON object', index, line };
    }
    return { value, index, line };
  } catch (error) {
    // JSON.parse's message quotes the input near the fault; keep only its kind, never the text.
    const message = error instanceof Error ? error.message.replace(/[:,].*$/s, '') : 'invalid JSON';
    return { error: `invalid JSON (${message})`, index, line };
  }
}
