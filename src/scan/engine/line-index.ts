// Byte offset -> line and column, built only for fragments that produced a match (most files produce none).
// Lines and columns are 1-based; columns count bytes, as gitleaks' (Go strings are bytes) do.

export class LineIndex {
  readonly #newlines: number[] = [];
  readonly #data: Uint8Array;

  constructor(data: Uint8Array) {
    this.#data = data;
    const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    for (let at = buffer.indexOf(10); at >= 0; at = buffer.indexOf(10, at + 1)) this.#newlines.push(at);
  }

  /** 0-based index of the line holding `offset`. */
  lineOf(offset: number): number {
    let low = 0;
    let high = this.#newlines.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#newlines[mid] as number) < offset) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Offset of the first byte of a 0-based line. */
  lineStart(line: number): number {
    return line === 0 ? 0 : (this.#newlines[line - 1] as number) + 1;
  }

  /** Offset just past the last byte of a 0-based line (its newline, or the end of data), without a `\r`. */
  lineEnd(line: number): number {
    let end = line < this.#newlines.length ? (this.#newlines[line] as number) : this.#data.length;
    if (end > this.lineStart(line) && this.#data[end - 1] === 13) end -= 1;
    return end;
  }

  /** Line (0-based) and column (1-based) of a byte offset. */
  position(offset: number): { line: number; column: number } {
    const line = this.lineOf(offset);
    return { line, column: offset - this.lineStart(line) + 1 };
  }
}
