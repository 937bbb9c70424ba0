// Cuts the byte stream of `git log -p` (or `git diff`) into chunks a worker can parse on its own: at a commit
// record's start when one lies in reach, else at a file's `diff --` line inside one large commit, the commit's
// header then repeated at the head of the next chunk so the parser still knows whose change it reads.
// Each byte is searched about once (the old splitter joined everything read so far on every 64 KB read: eslint's
// 26 MB commits cost it gigabytes of copying), and no chunk grows much past the target unless one file's diff
// alone is bigger.
import { FIELD_SEPARATOR, isRecordStart, RECORD_SEPARATOR } from './git-patch-parser.js';

export interface PatchChunk {
  data: Buffer;
  /** The chunk starts with a repeated header: its commit was counted with the chunk before. */
  continued: boolean;
}

const FILE_START = Buffer.from('\ndiff --');
/** Fields of a commit header (GIT_LOG_FORMAT): sha, author, email, date, message. */
const HEADER_FIELDS = 5;

export class PatchChunker {
  readonly #target: number;
  #parts: Buffer[] = [];
  #bytes = 0;
  /** Search again only once this much is held: a file's diff bigger than the target is not joined per read. */
  #nextCut: number;
  /** Whether the held bytes start with a header repeated from an earlier chunk. */
  #continued = false;

  constructor(targetBytes: number) {
    this.#target = targetBytes;
    this.#nextCut = targetBytes;
  }

  /** Takes the next bytes read; returns the chunks that are complete (often none). */
  push(data: Buffer): PatchChunk[] {
    if (data.length === 0) return [];
    this.#parts.push(data);
    this.#bytes += data.length;
    const chunks: PatchChunk[] = [];
    while (this.#bytes >= this.#nextCut) {
      const chunk = this.#cut();
      if (!chunk) break;
      chunks.push(chunk);
    }
    return chunks;
  }

  /** The rest, once the stream has ended. */
  end(): PatchChunk | undefined {
    if (this.#bytes === 0) return undefined;
    const chunk = { data: this.#joined(), continued: this.#continued };
    this.#parts = [];
    this.#bytes = 0;
    return chunk;
  }

  #joined(): Buffer {
    if (this.#parts.length > 1) this.#parts = [Buffer.concat(this.#parts, this.#bytes)];
    return this.#parts[0] as Buffer;
  }

  #cut(): PatchChunk | undefined {
    const held = this.#joined();
    const continued = this.#continued;
    // The last commit record starting after the first byte: everything before it is whole commits.
    let at = held.lastIndexOf(RECORD_SEPARATOR);
    while (at > 0 && !isRecordStart(held, at)) at = held.lastIndexOf(RECORD_SEPARATOR, at - 1);
    if (at > 0) {
      this.#keep(held.subarray(at), false);
      return { data: held.subarray(0, at), continued };
    }
    // One commit (or a header-less diff) holds everything: cut before its last file, after the header.
    const headerEnd = held[0] === RECORD_SEPARATOR ? commitHeaderEnd(held) : 0;
    if (headerEnd < 0) return this.#wait(held.length);
    const fileStart = held.lastIndexOf(FILE_START) + 1;
    if (fileStart <= headerEnd || fileStart === 0) return this.#wait(held.length);
    const rest = held.subarray(fileStart);
    this.#keep(headerEnd > 0 ? Buffer.concat([held.subarray(0, headerEnd), rest]) : rest, headerEnd > 0);
    return { data: held.subarray(0, fileStart), continued };
  }

  /** Nothing to cut yet (one file's diff is bigger than the target): look again when twice as much is held. */
  #wait(held: number): undefined {
    this.#nextCut = Math.max(this.#target, held * 2);
    return undefined;
  }

  #keep(rest: Buffer, continued: boolean): void {
    this.#parts = rest.length > 0 ? [rest] : [];
    this.#bytes = rest.length;
    this.#continued = continued;
    this.#nextCut = this.#target;
  }
}

/** The offset just past a commit header's last field separator, or -1 when the header is not all here. */
function commitHeaderEnd(data: Buffer): number {
  let at = 1;
  for (let field = 0; field < HEADER_FIELDS; field++) {
    const end = data.indexOf(FIELD_SEPARATOR, at);
    if (end < 0) return -1;
    at = end + 1;
  }
  return at;
}
