// Finds where a field sits in YAML text. The fast parser used on the hot path keeps no positions, so when an
// entry has something to report we find the field's line: by reading lines when the file is plain block YAML
// (yaml-quick-locator.ts), and otherwise with the position-keeping parser, run at most once per file.
import { createRequire } from 'node:module';
import type { Node } from 'yaml';
import { quickLocate } from './yaml-quick-locator.js';

/**
 * The position-keeping parser, loaded on first use: most entries are located by the quick reader, and loading
 * `yaml` cost every validation thread 60 ms of start-up.
 */
const loadYaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml');

export interface LineColumn {
  line: number;
  column: number;
}

export class YamlLocator {
  readonly #text: string;
  #parsed: { root: Node | null; lineCounter: import('yaml').LineCounter } | undefined;

  constructor(text: string) {
    this.#text = text;
  }

  /**
   * The position of the field at `path`: the key of the deepest mapping entry that exists on the way (so a missing
   * field points at its parent), or the start of the document.
   */
  locate(path: ReadonlyArray<PropertyKey>): LineColumn {
    return quickLocate(this.#text, path) ?? this.locateWithParser(path);
  }

  /** The same answer from the full parser; public so tests can hold the quick reader to it. */
  locateWithParser(path: ReadonlyArray<PropertyKey>): LineColumn {
    this.#parsed ??= this.#parse();
    const { root, lineCounter } = this.#parsed;
    const { isMap, isScalar, isSeq } = loadYaml();
    let node: unknown = root;
    let best: number | undefined = offsetOf(node);
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        best = offsetOf(pair.key) ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment];
        if (item === undefined) break;
        best = offsetOf(item) ?? best;
        node = item;
      } else {
        break;
      }
    }
    const { line, col } = lineCounter.linePos(best ?? 0);
    return { line, column: col };
  }

  #parse(): { root: Node | null; lineCounter: import('yaml').LineCounter } {
    const { LineCounter, parseDocument } = loadYaml();
    const lineCounter = new LineCounter();
    const document = parseDocument(this.#text, { lineCounter, keepSourceTokens: false, uniqueKeys: false });
    return { root: (document.contents as Node | null) ?? null, lineCounter };
  }
}

function offsetOf(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : undefined;
}
