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
  // The root mapping starts at the first meaningful line.
  for (let i = 0; i < lines.length; i++) {
    if (meaningful(lines[i])) {
      if (lines[i]!.indent !== 0) return undefined;
      best = { line: i + 1, column: 1 };
      break;
    }
  }
  if (!best) return undefined;

  for (const segment of path) {
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
    if (value !== '' && !value.startsWith('#')) {
      // A scalar or a flow collection on the key's own line: nothing below to descend into.
      if (path.indexOf(segment) < path.length - 1)
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
