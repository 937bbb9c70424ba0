// Locates a field in block-style YAML by reading lines, without parsing the document. Registry files are almost
// always plain block mappings, and on a large registry with many findings the full position-keeping parse of each
// file dominated `validate`. Whenever the text is outside the simple subset (flow collections on the way, anchors,
// multi-line keys, tabs, several documents), it answers undefined and the caller uses the full parser.
import type { LineColumn } from './yaml-position.js';

interface Line {
  indent: number;
  /** The text after the indentation, comments not removed. */
  body: string;
}

export function quickLocate(text: string, path: ReadonlyArray<PropertyKey>): LineColumn | undefined {
  if (text.includes('\t') || /^(---|\.\.\.)(\s|$)/m.test(text) || text.includes('\r')) return undefined;
  const lines: Line[] = text.split('\n').map((raw) => {
    const body = raw.trimStart();
    return { indent: raw.length - body.length, body };
  });
  const meaningful = (line: Line | undefined) => line !== undefined && line.body !== '' && !line.body.startsWith('#');

  let start = 0;
  let end = lines.length;
  let parentIndent = -1;
  let best: LineColumn | undefined;
  /** The key line the last string segment found, for a numeric segment after it. */
  let listLine: { index: number; indent: number; value: string } | undefined;
  // The root mapping starts at the first meaningful line.
  for (let i = 0; i < lines.length; i++) {
    if (meaningful(lines[i])) {
      if (lines[i]!.indent !== 0) return undefined;
      best = { line: i + 1, column: 1 };
      break;
    }
  }
  if (!best) return undefined;

  for (let depth = 0; depth < path.length; depth++) {
    const segment = path[depth];
    if (typeof segment === 'number' && depth === path.length - 1 && depth > 0) {
      // An item of the list the previous segment named, as the last step (`scope.permissions[2]`).
      return locateItem(lines, start, end, parentIndent, segment, listLine) ?? undefined;
    }
    if (typeof segment !== 'string') return undefined;
    // The block below the parent: its children sit at the indentation of its first meaningful line.
    let childIndent = -1;
    for (let i = start; i < end; i++) {
      if (meaningful(lines[i])) {
        childIndent = lines[i]!.indent;
        break;
      }
    }
    if (childIndent <= parentIndent) return best;
    let found = -1;
    for (let i = start; i < end; i++) {
      const line = lines[i]!;
      if (!meaningful(line) || line.indent !== childIndent) continue;
      if (
        line.body.startsWith('- ') ||
        line.body === '-' ||
        line.body.startsWith('? ') ||
        line.body.startsWith('&') ||
        line.body.startsWith('*')
      ) {
        return undefined;
      }
      const key = mappingKey(line.body);
      if (key === undefined) return undefined;
      if (key === segment) {
        found = i;
        break;
      }
    }
    if (found < 0) return best;
    best = { line: found + 1, column: childIndent + 1 };
    const value = valueAfterKey(lines[found]!.body);
    listLine = { index: found, indent: childIndent, value };
    if (value !== '' && !value.startsWith('#')) {
      // A flow list on the key's own line holds the item that a last numeric segment names.
      if (depth === path.length - 2 && typeof path[depth + 1] === 'number' && value.startsWith('[')) {
        const column = flowItemColumn(lines[found]!.body, value, path[depth + 1] as number);
        if (column === undefined) return undefined;
        return column < 0 ? best : { line: found + 1, column: childIndent + 1 + column };
      }
      // A scalar or a flow collection on the key's own line: nothing below to descend into.
      if (depth < path.length - 1)
        return value.startsWith('[') || value.startsWith('{') || value.startsWith('&') ? undefined : best;
      return best;
    }
    start = found + 1;
    let stop = start;
    while (stop < end && (!meaningful(lines[stop]) || lines[stop]!.indent > childIndent)) stop++;
    end = stop;
    parentIndent = childIndent;
  }
  return best;
}

/**
 * The position of item `index` of the block list below a key (lines `start` to `end`): where the item's value
 * starts, after its dash. Undefined when the block is not a plain list of one-line items. Past the end of the
 * list, the key's own position, as the parser answers.
 */
function locateItem(
  lines: Line[],
  start: number,
  end: number,
  parentIndent: number,
  index: number,
  listLine: { index: number; indent: number; value: string } | undefined,
): LineColumn | undefined {
  if (!listLine || (listLine.value !== '' && !listLine.value.startsWith('#'))) return undefined;
  const keyPosition = { line: listLine.index + 1, column: listLine.indent + 1 };
  let dashIndent = -1;
  let seen = 0;
  for (let i = start; i < end; i++) {
    const line = lines[i]!;
    if (line.body === '' || line.body.startsWith('#')) continue;
    if (dashIndent < 0) dashIndent = line.indent;
    // A list may sit at its key's own indentation (then `end` already stops at the next key).
    if (line.indent !== dashIndent || !line.body.startsWith('- ')) return undefined;
    const item = line.body.slice(2).trimStart();
    if (
      item === '' ||
      item.startsWith('#') ||
      item.startsWith('- ') ||
      /^[&*!|>{[]/.test(item) ||
      item.includes(': ')
    ) {
      return undefined;
    }
    if (seen === index) return { line: i + 1, column: line.indent + 1 + (line.body.length - item.length) };
    seen++;
  }
  if (dashIndent < 0 || dashIndent < parentIndent) return undefined;
  return keyPosition;
}

/**
 * The column offset (0-based, within the key's line body) of item `index` of the one-line flow list `value`, -1
 * when the list has fewer items, undefined when the list is not a plain one (nested collections, anchors, a list
 * that goes on to the next line).
 */
function flowItemColumn(body: string, value: string, index: number): number | undefined {
  // `value` is the trimmed end of the line.
  const base = body.trimEnd().length - value.length;
  let at = 1;
  let item = 0;
  const skipSpaces = () => {
    while (value[at] === ' ') at++;
  };
  skipSpaces();
  if (value[at] === ']') return -1;
  for (;;) {
    skipSpaces();
    const char = value[at];
    if (char === undefined || '[]{}&*!|>#,'.includes(char)) return undefined;
    const itemStart = at;
    if (char === '"' || char === "'") {
      const close = value.indexOf(char, at + 1);
      if (close < 0 || (char === '"' && value.slice(at + 1, close).includes('\\'))) return undefined;
      if (char === "'" && value[close + 1] === "'") return undefined;
      at = close + 1;
    } else {
      while (at < value.length && value[at] !== ',' && value[at] !== ']') {
        if ('[{#:'.includes(value[at]!)) return undefined;
        at++;
      }
    }
    if (item === index) return base + itemStart;
    item++;
    skipSpaces();
    if (value[at] === ',') {
      at++;
      continue;
    }
    if (value[at] === ']') return -1;
    return undefined;
  }
}

/** The key of a `key: value` line, unquoted; undefined for anything else. */
function mappingKey(body: string): string | undefined {
  const match =
    /^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^\s"'#&*!|>%@`{}[\],?:-][^:#]*?|-[^\s:#][^:#]*?))\s*:(?:\s|$)/.exec(
      body,
    );
  if (!match) return undefined;
  if (match[1] !== undefined) return match[1].includes('\\') ? undefined : match[1];
  if (match[2] !== undefined) return match[2].replace(/''/g, "'");
  return match[3];
}

function valueAfterKey(body: string): string {
  const match = /^(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:#]*?)\s*:(?:\s+|$)(.*)$/.exec(body);
  return (match?.[1] ?? '').trim();
}
