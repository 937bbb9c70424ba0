// Finds where a field sits in YAML text. The fast parser used on the hot path keeps no positions, so when an
// entry has something to report we re-read that one file with the position-keeping parser and point at the field.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

export interface LineColumn {
  line: number;
  column: number;
}

export class YamlLocator {
  readonly #lineCounter = new LineCounter();
  readonly #root: Node | null;

  constructor(text: string) {
    const document = parseDocument(text, { lineCounter: this.#lineCounter, keepSourceTokens: false, uniqueKeys: false });
    this.#root = (document.contents as Node | null) ?? null;
  }

  /**
   * The position of the field at `path`: the key of the deepest mapping entry that exists on the way (so a missing
   * field points at its parent), or the start of the document.
   */
  locate(path: ReadonlyArray<PropertyKey>): LineColumn {
    let node: unknown = this.#root;
    let best: number | undefined = this.#offsetOf(node);
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        best = this.#offsetOf(pair.key) ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment];
        if (item === undefined) break;
        best = this.#offsetOf(item) ?? best;
        node = item;
      } else {
        break;
      }
    }
    const { line, col } = this.#lineCounter.linePos(best ?? 0);
    return { line, column: col };
  }

  #offsetOf(node: unknown): number | undefined {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? range[0] : undefined;
  }
}
