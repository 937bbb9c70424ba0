// A reader for the plain block YAML that registry entries are written in — `key: value` mappings nested by
// indentation, `- item` sequences, one-line `[a, "b"]` lists, quoted and plain scalars, comments. On a registry
// of 100,000 files, general-purpose parsing was most of `validate`'s time; this reads the common shape several
// times faster and answers `undefined` for anything outside it (anchors, flow mappings, block scalars, escapes,
// multi-line values, tabs, duplicate keys, several documents), so the caller falls back to js-yaml. Scalars are
// resolved by js-yaml's own core-schema types, and a property test holds the result equal to js-yaml's.
import jsYaml from 'js-yaml';

interface ScalarType {
  resolve(text: string): boolean;
  construct(text: string): unknown;
}
// The core schema's implicit types, in js-yaml's order; @types/js-yaml does not declare `types`.
const {
  null: nullType,
  bool: boolType,
  int: intType,
  float: floatType,
} = (jsYaml as unknown as { types: Record<'null' | 'bool' | 'int' | 'float', ScalarType> }).types;

/** Thrown internally when the text leaves the supported subset. */
class OutsideSubset extends Error {}

const outside = (): never => {
  throw new OutsideSubset();
};

/**
 * The meaningful lines of a document (not blank, not a comment) as two parallel arrays: indentation in spaces,
 * and the text after it with trailing spaces removed. Scanned by character code rather than with split, trim and
 * an object per line: this runs on every file of the registry, and allocation was a good part of its cost.
 */
interface Lines {
  indents: number[];
  bodies: string[];
}

const SPACE = 0x20;
const HASH = 0x23;

/** Any character that String#trim would remove besides the space: leave such lines to js-yaml. */
function isOtherWhitespace(code: number): boolean {
  return (
    code === 0x0b ||
    code === 0x0c ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function splitLines(text: string): Lines | undefined {
  const indents: number[] = [];
  const bodies: string[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let first = start;
    while (first < end && text.charCodeAt(first) === SPACE) first++;
    let last = end;
    while (last > first && text.charCodeAt(last - 1) === SPACE) last--;
    if (first < last) {
      const code = text.charCodeAt(first);
      if (isOtherWhitespace(code) || isOtherWhitespace(text.charCodeAt(last - 1))) return undefined;
      if (code !== HASH) {
        if (first === start && (text.startsWith('---', start) || text.startsWith('...', start) || code === 0x25)) {
          return undefined;
        }
        indents.push(first - start);
        bodies.push(text.slice(first, last));
      }
    }
    start = end + 1;
  }
  return { indents, bodies };
}

/** The parsed document, or undefined when the text is not plain block YAML with a mapping at its root. */
export function readBlockYaml(text: string): { value: Record<string, unknown> } | undefined {
  if (text.includes('\t') || text.includes('\r') || text.charCodeAt(0) === 0xfeff) return undefined;
  const lines = splitLines(text);
  if (!lines || lines.bodies.length === 0 || lines.indents[0] !== 0) return undefined;
  try {
    const reader = new BlockReader(lines);
    const value = reader.mapping(0, 0);
    if (reader.position !== lines.bodies.length) return undefined;
    return { value };
  } catch (error) {
    if (error instanceof OutsideSubset) return undefined;
    throw error;
  }
}

const QUOTED_KEY = /^(?:"([^"\\]*)"|'([^']*)')[ ]*:(?:[ ]+(.*))?$/;
const DATE_PREFIX = /^[0-9]{4}-[0-9]{2}-/;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

class BlockReader {
  position = 0;
  readonly #indents: number[];
  readonly #bodies: string[];

  constructor(lines: Lines) {
    this.#indents = lines.indents;
    this.#bodies = lines.bodies;
  }

  /** A block mapping whose keys sit at `indent`, starting at line `start`. */
  mapping(start: number, indent: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.position = start;
    while (this.position < this.#bodies.length) {
      const lineIndent = this.#indents[this.position]!;
      if (lineIndent < indent) break;
      if (lineIndent > indent) outside();
      const body = this.#bodies[this.position]!;
      const key = splitKey(body);
      if (Object.hasOwn(result, key)) outside();
      this.position += 1;
      result[key] = this.#valueAfter(splitRest, indent);
    }
    return result;
  }

  /** A block sequence whose dashes sit at `indent`. */
  sequence(start: number, indent: number): unknown[] {
    const items: unknown[] = [];
    this.position = start;
    while (this.position < this.#bodies.length) {
      const lineIndent = this.#indents[this.position]!;
      const body = this.#bodies[this.position]!;
      if (lineIndent < indent) break;
      if (lineIndent > indent || !isDashLine(body)) break;
      const itemText = body === '-' ? '' : body.slice(2);
      const item = itemText.trimStart();
      const offset = body.length - item.length;
      if (item === '') {
        this.position += 1;
        items.push(this.#nestedOrNull(indent));
      } else if (isDashLine(item)) {
        outside();
      } else if (looksLikeKey(item)) {
        // `- key: value` opens a mapping whose keys sit at the item's column.
        this.#indents[this.position] = indent + offset;
        this.#bodies[this.position] = item;
        items.push(this.mapping(this.position, indent + offset));
      } else {
        this.position += 1;
        items.push(this.#scalarLine(item, indent));
      }
    }
    return items;
  }

  #valueAfter(rest: string | undefined, indent: number): unknown {
    if (rest === undefined || rest === '' || rest.charCodeAt(0) === HASH) {
      // A sequence may sit at its key's own indentation.
      if (this.#indents[this.position] === indent && isDashLine(this.#bodies[this.position]!)) {
        return this.sequence(this.position, indent);
      }
      return this.#nestedOrNull(indent);
    }
    return this.#scalarLine(rest, indent);
  }

  #nestedOrNull(indent: number): unknown {
    const nextIndent = this.#indents[this.position];
    if (nextIndent === undefined || nextIndent <= indent) return null;
    if (isDashLine(this.#bodies[this.position]!)) return this.sequence(this.position, nextIndent);
    return this.mapping(this.position, nextIndent);
  }

  /** A value on the key's own line; a deeper line after it would be a continuation, which we leave to js-yaml. */
  #scalarLine(text: string, indent: number): unknown {
    const nextIndent = this.#indents[this.position];
    if (nextIndent !== undefined && nextIndent > indent) outside();
    return readInlineValue(text);
  }
}

/** `-` alone or `- ...`: a block sequence item. */
function isDashLine(body: string): boolean {
  return body.charCodeAt(0) === 0x2d && (body.length === 1 || body.charCodeAt(1) === SPACE);
}

function isPlainKeyStart(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f;
}

/** [A-Za-z0-9_.\-/] */
function isPlainKeyPart(code: number): boolean {
  return isPlainKeyStart(code) || (code >= 0x30 && code <= 0x39) || code === 0x2e || code === 0x2d || code === 0x2f;
}

/**
 * Where a plain `key: value` line's key ends and its value starts, as `^([A-Za-z_][A-Za-z0-9_.\-/]*)[ ]*:(?:[ ]+(.*))?$`
 * would find them (scanned by hand: a regular expression and its match array per line cost more than the rest
 * of the line's reading). Answers false for anything else; the scan leaves its result in `plainKeyEnd` and
 * `plainRestStart` (-1: nothing after the colon).
 */
let plainKeyEnd = 0;
let plainRestStart = -1;
function scanPlainKey(body: string): boolean {
  if (!isPlainKeyStart(body.charCodeAt(0))) return false;
  let at = 1;
  while (at < body.length && isPlainKeyPart(body.charCodeAt(at))) at++;
  plainKeyEnd = at;
  while (body.charCodeAt(at) === SPACE) at++;
  if (body.charCodeAt(at) !== 0x3a) return false;
  at++;
  if (at === body.length) {
    plainRestStart = -1;
    return true;
  }
  if (body.charCodeAt(at) !== SPACE) return false;
  while (body.charCodeAt(at) === SPACE) at++;
  plainRestStart = at;
  return true;
}

function looksLikeKey(text: string): boolean {
  return scanPlainKey(text) || QUOTED_KEY.test(text);
}

/**
 * The key text `body.slice(0, end)`, as the same string object every time a key repeats. A fresh slice used as
 * a property name must be hashed and interned on every line of every file; registries repeat a few dozen keys,
 * so keys seen before are found by comparing characters against the few of the same length and first letter.
 */
const seenKeys = new Map<number, string[]>();
const MAX_SEEN_PER_SLOT = 16;
function knownKey(body: string, end: number): string {
  const slot = (end << 8) | (body.charCodeAt(0) & 0xff);
  const candidates = seenKeys.get(slot);
  if (candidates) {
    for (const candidate of candidates) if (body.startsWith(candidate)) return candidate;
  }
  const key = body.slice(0, end);
  if (!candidates) seenKeys.set(slot, [key]);
  else if (candidates.length < MAX_SEEN_PER_SLOT) candidates.push(key);
  return key;
}

/** What followed the key that `splitKey` last returned (undefined: nothing). */
let splitRest: string | undefined;

/** The key of a `key: value` line; the value's text is left in `splitRest`. */
function splitKey(body: string): string {
  if (scanPlainKey(body)) {
    const key = knownKey(body, plainKeyEnd);
    // A key that js-yaml would resolve to a non-string (null, true, 1.0) is stringified differently: leave it.
    if (RESERVED_KEYS.has(key) || resolvePlain(key) !== key) outside();
    splitRest = plainRestStart < 0 ? undefined : body.slice(plainRestStart);
    return key;
  }
  const quoted = QUOTED_KEY.exec(body);
  if (quoted) {
    const key = quoted[1] ?? quoted[2]!;
    if (RESERVED_KEYS.has(key)) outside();
    splitRest = quoted[3];
    return key;
  }
  return outside();
}

/** A scalar or a one-line `[...]` list, with an optional trailing comment. */
function readInlineValue(text: string): unknown {
  const first = text[0]!;
  if (first === '"' || first === "'") {
    const { value, end } = readQuoted(text, 0);
    expectOnlyComment(text, end);
    return value;
  }
  if (first === '[') return readFlowSequence(text);
  if ('{&*!|>%@`?,]}#'.includes(first) || (first === '-' && (text[1] === ' ' || text.length === 1))) outside();
  const comment = text.indexOf(' #');
  const plain = (comment >= 0 ? text.slice(0, comment) : text).trimEnd();
  if (plain.includes(': ') || plain.endsWith(':')) outside();
  return resolvePlain(plain);
}

function readQuoted(text: string, start: number): { value: string; end: number } {
  const quote = text[start]!;
  if (quote === '"') {
    const close = text.indexOf('"', start + 1);
    if (close < 0) outside();
    const value = text.slice(start + 1, close);
    if (value.includes('\\')) outside();
    return { value, end: close + 1 };
  }
  let value = '';
  let from = start + 1;
  for (;;) {
    const close = text.indexOf("'", from);
    if (close < 0) outside();
    value += text.slice(from, close);
    if (text[close + 1] !== "'") return { value, end: close + 1 };
    value += "'";
    from = close + 2;
  }
}

function expectOnlyComment(text: string, from: number): void {
  const rest = text.slice(from);
  if (rest.trim() === '') return;
  if (/^[ ]+#/.test(rest)) return;
  outside();
}

function readFlowSequence(text: string): unknown[] {
  const items: unknown[] = [];
  let i = 1;
  const skipSpaces = () => {
    while (text[i] === ' ') i += 1;
  };
  skipSpaces();
  if (text[i] === ']') {
    expectOnlyComment(text, i + 1);
    return items;
  }
  for (;;) {
    skipSpaces();
    const char = text[i];
    if (char === undefined) return outside();
    if (char === '"' || char === "'") {
      const { value, end } = readQuoted(text, i);
      items.push(value);
      i = end;
    } else {
      let end = i;
      while (end < text.length && !',]'.includes(text[end]!)) end += 1;
      const plain = text.slice(i, end).trimEnd();
      if (plain === '' || /[[\]{}#:&*!|>%@`?'"]/.test(plain) || plain.startsWith('-')) outside();
      items.push(resolvePlain(plain));
      i = end;
    }
    skipSpaces();
    if (text[i] === ',') {
      i += 1;
      skipSpaces();
      if (text[i] === ']') outside();
      continue;
    }
    if (text[i] === ']') {
      expectOnlyComment(text, i + 1);
      return items;
    }
    return outside();
  }
}

/** Resolves a plain scalar as js-yaml's core schema does: null, bool, int, float, else the text. */
function resolvePlain(text: string): unknown {
  // Most registry scalars are names and timestamps. Null and bool words start with n, t, f (any case) or ~; ints
  // and floats with a digit, a sign or a dot; and `2026-04-01...` is neither. Everything else is text as written.
  const first = text.charCodeAt(0);
  const isLetter = (first >= 97 && first <= 122) || (first >= 65 && first <= 90);
  if (isLetter && !'nNtTfF'.includes(text[0]!)) return text;
  if (first >= 48 && first <= 57 && DATE_PREFIX.test(text)) return text;
  if (nullType.resolve(text)) return nullType.construct(text);
  if (boolType.resolve(text)) return boolType.construct(text);
  if (intType.resolve(text)) return intType.construct(text);
  if (floatType.resolve(text)) return floatType.construct(text);
  return text;
}
