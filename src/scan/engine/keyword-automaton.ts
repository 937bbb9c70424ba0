// The keyword prefilter: one pass over a file's bytes finds every occurrence of every rule keyword, ignoring
// ASCII case, with an Aho-Corasick automaton compiled to a full transition table (one table lookup per byte).
// The engine then runs only the rules whose keywords occur, and only on the region around each occurrence.

export class KeywordAutomaton {
  readonly keywords: readonly string[];
  readonly #delta: Uint16Array | Uint32Array;
  /** For each state, the first index into #outputs, or -1 when no keyword ends there. */
  readonly #outputStart: Int32Array;
  readonly #outputEnd: Int32Array;
  readonly #outputs: Int32Array;
  /** Byte length of each keyword, so a hit's start is `end - length`. */
  readonly lengths: Int32Array;

  constructor(keywords: readonly string[]) {
    this.keywords = keywords;
    const patterns = keywords.map((keyword) => Buffer.from(keyword.toLowerCase(), 'utf8'));
    this.lengths = Int32Array.from(patterns, (pattern) => pattern.length);

    // Build the trie over lowercased bytes.
    const children: Map<number, number>[] = [new Map()];
    const own: number[][] = [[]];
    patterns.forEach((pattern, index) => {
      if (pattern.length === 0) return;
      let state = 0;
      for (const byte of pattern) {
        let next = children[state]?.get(byte);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          own.push([]);
          children[state]?.set(byte, next);
        }
        state = next;
      }
      own[state]?.push(index);
    });

    const stateCount = children.length;
    const delta = stateCount < 0xffff ? new Uint16Array(stateCount * 256) : new Uint32Array(stateCount * 256);
    const fail = new Int32Array(stateCount);
    const outputs: number[][] = own.map((list) => [...list]);

    // Breadth-first: a state's failure target is always shallower, so its row is complete when we need it.
    const queue: number[] = [];
    for (let byte = 0; byte < 256; byte++) {
      const next = children[0]?.get(byte);
      if (next !== undefined) {
        delta[byte] = next;
        fail[next] = 0;
        queue.push(next);
      }
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      outputs[state]?.push(...(outputs[fail[state] as number] ?? []));
      const row = state * 256;
      const failRow = (fail[state] as number) * 256;
      for (let byte = 0; byte < 256; byte++) {
        const next = children[state]?.get(byte);
        if (next !== undefined) {
          delta[row + byte] = next;
          fail[next] = delta[failRow + byte] as number;
          queue.push(next);
        } else {
          delta[row + byte] = delta[failRow + byte] as number;
        }
      }
    }
    // Fold ASCII case: an upper-case byte moves like its lower-case twin.
    for (let state = 0; state < stateCount; state++) {
      const row = state * 256;
      for (let byte = 0x41; byte <= 0x5a; byte++) delta[row + byte] = delta[row + byte + 0x20] as number;
    }

    this.#delta = delta;
    this.#outputStart = new Int32Array(stateCount).fill(-1);
    this.#outputEnd = new Int32Array(stateCount);
    const flat: number[] = [];
    outputs.forEach((list, state) => {
      if (list.length === 0) return;
      this.#outputStart[state] = flat.length;
      flat.push(...list);
      this.#outputEnd[state] = flat.length;
    });
    this.#outputs = Int32Array.from(flat);
  }

  /**
   * Reports every keyword occurrence as (keyword index, end offset exclusive). Overlapping occurrences are all
   * reported, as Aho-Corasick does.
   */
  scan(data: Uint8Array, onHit: (keyword: number, end: number) => void): void {
    const delta = this.#delta;
    const outputStart = this.#outputStart;
    const outputEnd = this.#outputEnd;
    const outputs = this.#outputs;
    let state = 0;
    const length = data.length;
    for (let i = 0; i < length; i++) {
      state = delta[(state << 8) | (data[i] as number)] as number;
      const first = outputStart[state] as number;
      if (first >= 0) {
        const last = outputEnd[state] as number;
        for (let k = first; k < last; k++) onHit(outputs[k] as number, i + 1);
      }
    }
  }

  /** The set of keyword indexes occurring in `data` (for tests and small inputs). */
  occurring(data: Uint8Array): Set<number> {
    const found = new Set<number>();
    this.scan(data, (keyword) => found.add(keyword));
    return found;
  }
}
