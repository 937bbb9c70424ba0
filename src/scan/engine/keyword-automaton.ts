// The keyword prefilter: one pass over a file's bytes finds every occurrence of every rule keyword, ignoring
// ASCII case, with an Aho-Corasick automaton compiled to a full transition table (one table lookup per byte).
// The engine then runs only the rules whose keywords occur, and only on the region around each occurrence.

export class KeywordAutomaton {
  readonly keywords: readonly string[];
  readonly #delta: Uint16Array | Uint32Array;
  /** States numbered from here on are those where a keyword ends. */
  readonly #firstOutputState: number;
  /** For each output state (numbered from #firstOutputState), its range in #outputs. */
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

    // Renumber the states so that those where a keyword ends come last: the scan loop then tells a hit by one
    // comparison with the state number, with no second table lookup per byte. The root stays state 0.
    const order: number[] = [];
    for (let state = 0; state < stateCount; state++) if ((outputs[state]?.length ?? 0) === 0) order.push(state);
    this.#firstOutputState = order.length;
    for (let state = 0; state < stateCount; state++) if ((outputs[state]?.length ?? 0) > 0) order.push(state);
    const renumbered = new Int32Array(stateCount);
    order.forEach((state, position) => {
      renumbered[state] = position;
    });
    const table = stateCount < 0xffff ? new Uint16Array(stateCount * 256) : new Uint32Array(stateCount * 256);
    order.forEach((state, position) => {
      for (let byte = 0; byte < 256; byte++) {
        table[position * 256 + byte] = renumbered[delta[state * 256 + byte] as number] as number;
      }
    });
    this.#delta = table;
    const outputCount = stateCount - this.#firstOutputState;
    this.#outputStart = new Int32Array(outputCount);
    this.#outputEnd = new Int32Array(outputCount);
    const flat: number[] = [];
    for (let position = this.#firstOutputState; position < stateCount; position++) {
      const list = outputs[order[position] as number] ?? [];
      this.#outputStart[position - this.#firstOutputState] = flat.length;
      flat.push(...list);
      this.#outputEnd[position - this.#firstOutputState] = flat.length;
    }
    this.#outputs = Int32Array.from(flat);
  }

  /**
   * Reports every keyword occurrence as (keyword index, end offset exclusive). Overlapping occurrences are all
   * reported, as Aho-Corasick does.
   */
  scan(data: Uint8Array, onHit: (keyword: number, end: number) => void): void {
    const delta = this.#delta;
    const firstOutputState = this.#firstOutputState;
    let state = 0;
    const length = data.length;
    for (let i = 0; i < length; i++) {
      state = delta[(state << 8) | (data[i] as number)] as number;
      if (state >= firstOutputState) this.#report(state, i + 1, onHit);
    }
  }

  #report(state: number, end: number, onHit: (keyword: number, end: number) => void): void {
    const slot = state - this.#firstOutputState;
    const last = this.#outputEnd[slot] as number;
    for (let k = this.#outputStart[slot] as number; k < last; k++) onHit(this.#outputs[k] as number, end);
  }

  /** The set of keyword indexes occurring in `data` (for tests and small inputs). */
  occurring(data: Uint8Array): Set<number> {
    const found = new Set<number>();
    this.scan(data, (keyword) => found.add(keyword));
    return found;
  }
}
