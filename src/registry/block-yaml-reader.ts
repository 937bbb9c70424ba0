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

interface Line {
  indent: number;
  body: string;
}

/** Thrown internally when the text leaves the supported subset. */
class OutsideSubset extends Error {}

const outside = (): never => {
  throw new OutsideSubset();
};

/** The parsed document, or undefined when the text is not plain block YAML with a mapping at its root. */
export function readBlockYaml(text: string): { value: Record<string, unknown> } | undefined {
  if (text.includes('\t') || text.includes('\r') || text.charCodeAt(0) === 0xfeff) return undefined;
  const lines: Line[] = [];
  for (const raw of text.split('\n')) {
    const body = raw.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    if (raw.startsWith('---') || raw.startsWith('...') || raw.startsWith('%')) return undefined;
    lines.push({ indent: raw.length - body.length, body: body.trimEnd() });
  }
  if (lines.length === 0 || lines[0]!.indent !== 0) return undefined;
  try {
    const reader = new BlockReader(lines);
    const value = reader.mapping(0, 0);
    if (reader.position !== lines.length) return undefined;
    return { value };
  } catch (error) {
    if (error instanceof OutsideSubset) return undefined;
    throw error;
  }
}

const PLAIN_KEY = /^([A-Za-z_][A-Za-z0-9_.\-/]*)[ ]*:(?:[ ]+(.*))?$/;
const QUOTED_KEY = /^(?:"([^"\\]*)"|'([^']*)')[ ]*:(?:[ ]+(.*))?$/;
const DATE_PREFIX = /^[0-9]{4}-[0-9]{2}-/;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

class BlockReader {
  position = 0;
  readonly #lines: Line[];

  constructor(lines: Line[]) {
    this.#lines = lines;
  }

  /** A block mapping whose keys sit at `indent`, starting at line `start`. */
  mapping(start: number, indent: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.position = start;
    while (this.position < this.#lines.length) {
      const line = this.#lines[this.position]!;
      if (line.indent < indent) break;
      if (line.indent > indent) outside();
      const { key, rest } = splitKey(line.body);
      if (Object.hasOwn(result, key)) outside();
      this.position += 1;
      result[key] = this.#valueAfter(rest, indent);
    }
    return result;
  }

  /** A block sequence whose dashes sit at `indent`. */
  sequence(start: number, indent: number): unknown[] {
    const items: unknown[] = [];
    this.position = start;
    while (this.position < this.#lines.length) {
      const line = this.#lines[this.position]!;
      if (line.indent < indent) break;
      if (line.indent > indent || !(line.body === '-' || line.body.startsWith('- '))) break;
      const itemText = line.body === '-' ? '' : line.body.slice(2);
      const offset = line.body.length - itemText.trimStart().length;
      const item = itemText.trimStart();
      if (item === '') {
        this.position += 1;
        items.push(this.#nestedOrNull(indent));
      } else if (item.startsWith('- ') || item === '-') {
        outside();
      } else if (looksLikeKey(item)) {
        // `- key: value` opens a mapping whose keys sit at the item's column.
        this.#lines[this.position] = { indent: indent + offset, body: item };
        items.push(this.mapping(this.position, indent + offset));
      } else {
        this.position += 1;
        items.push(this.#scalarLine(item, indent));
      }
    }
    return items;
  }

  #valueAfter(rest: string | undefined, indent: number): unknown {
    if (rest === undefined || rest === '' || rest.startsWith('#')) {
      const next = this.#lines[this.position];
      // A sequence may sit at its key's own indentation.
      if (next && next.indent === indent && (next.body === '-' || next.body.startsWith('- '))) {
        return this.sequence(this.position, indent);
      }
      return this.#nestedOrNull(indent);
    }
    return this.#scalarLine(rest, indent);
  }

  #nestedOrNull(indent: number): unknown {
    const next = this.#lines[this.position];
    if (!next || next.indent <= indent) return null;
    if (next.body === '-' || next.body.startsWith('- ')) return this.sequence(this.position, next.indent);
    return this.mapping(this.position, next.indent);
  }

  /** A value on the key's own line; a deeper line after it would be a continuation, which we leave to js-yaml. */
  #scalarLine(text: string, indent: number): unknown {
    const next = this.#lines[this.position];
    if (next && next.indent > indent) outside();
    return readInlineValue(text);
  }
}

function looksLikeKey(text: string): boolean {
  return PLAIN_KEY.test(text) || QUOTED_KEY.test(text);
}

function splitKey(body: string): { key: string; rest: string | undefined } {
  const plain = PLAIN_KEY.exec(body);
  if (plain) {
    const key = plain[1]!;
    // A key that js-yaml would resolve to a non-string (null, true, 1.0) is stringified differently: leave it.
    if (RESERVED_KEYS.has(key) || resolvePlain(key) !== key) outside();
    return { key, rest: plain[2] };
  }
  const quoted = QUOTED_KEY.exec(body);
  if (quoted) {
    const key = quoted[1] ?? quoted[2]!;
    if (RESERVED_KEYS.has(key)) outside();
    return { key, rest: quoted[3] };
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
