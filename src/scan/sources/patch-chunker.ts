// Cuts the byte stream of `git log -p` (or `git diff`) into chunks a worker can parse on its own: at a commit
// record's start when one lies in reach, else at a file's `diff --` line inside one large commit, the commit's
// header then repeated at the head of the next chunk so the parser still knows whose change it reads.
// Reads are copied once into the chunk's own memory, which is then handed to a worker thread as it is (no
// joining, no copy for the transfer): the old splitter re-joined everything held on every 64 KB read (eslint's
// 26 MB commits cost it gigabytes of copying), and each join and copy was memory the main thread's collector had
// to chase. No chunk grows much past the target unless one file's diff alone is bigger.
import { FIELD_SEPARATOR, isRecordStart, RECORD_SEPARATOR } from './git-patch-parser.js';

export interface PatchChunk {
  /** A view from offset 0 of memory (an ArrayBuffer) that belongs to this chunk alone: it may be transferred. */
  data: Buffer;
  /** The chunk starts with a repeated header: its commit was counted with the chunk before. */
  continued: boolean;
}

const FILE_START = Buffer.from('\ndiff --');
/** Fields of a commit header (GIT_LOG_FORMAT): sha, author, email, date, message. */
const HEADER_FIELDS = 5;
/** Room for one more pipe read past the target, so a chunk rarely needs to grow. */
const READ_ROOM = 128 * 1024;

/** Memory of its own (never a slice of Node's shared pool), so it can be transferred to a worker. */
function ownMemory(bytes: number): Buffer {
  return Buffer.allocUnsafeSlow(bytes);
}

export class PatchChunker {
  readonly #target: number;
  #buffer: Buffer;
  #length = 0;
  /** Search again only once this much is held: a file's diff bigger than the target is not searched per read. */
  #nextCut: number;
  /** Whether the held bytes start with a header repeated from an earlier chunk. */
  #continued = false;

  constructor(targetBytes: number) {
    this.#target = targetBytes;
    this.#nextCut = targetBytes;
    this.#buffer = ownMemory(targetBytes + READ_ROOM);
  }

  /** Takes the next bytes read; returns the chunks that are complete (often none). */
  push(data: Buffer): PatchChunk[] {
    if (data.length === 0) return [];
    if (this.#length + data.length > this.#buffer.length) {
      const grown = ownMemory(Math.max(this.#buffer.length * 2, this.#length + data.length + READ_ROOM));
      this.#buffer.copy(grown, 0, 0, this.#length);
      this.#buffer = grown;
    }
    this.#length += data.copy(this.#buffer, this.#length);
    const chunks: PatchChunk[] = [];
    while (this.#length >= this.#nextCut) {
      const chunk = this.#cut();
      if (!chunk) break;
      chunks.push(chunk);
    }
    return chunks;
  }

  /** The rest, once the stream has ended. */
  end(): PatchChunk | undefined {
    if (this.#length === 0) return undefined;
    const chunk = { data: this.#buffer.subarray(0, this.#length), continued: this.#continued };
    this.#buffer = ownMemory(0);
    this.#length = 0;
    return chunk;
  }

  #cut(): PatchChunk | undefined {
    const held = this.#buffer.subarray(0, this.#length);
    const continued = this.#continued;
    // The last commit record starting after the first byte: everything before it is whole commits.
    let at = held.lastIndexOf(RECORD_SEPARATOR);
    while (at > 0 && !isRecordStart(held, at)) at = held.lastIndexOf(RECORD_SEPARATOR, at - 1);
    if (at > 0) {
      this.#keep(held, undefined, at, false);
      return { data: held.subarray(0, at), continued };
    }
    // One commit (or a header-less diff) holds everything: cut before its last file, after the header.
    const headerEnd = held[0] === RECORD_SEPARATOR ? commitHeaderEnd(held) : 0;
    if (headerEnd < 0) return this.#wait();
    const fileStart = held.lastIndexOf(FILE_START) + 1;
    if (fileStart <= headerEnd || fileStart === 0) return this.#wait();
    this.#keep(held, headerEnd > 0 ? held.subarray(0, headerEnd) : undefined, fileStart, headerEnd > 0);
    return { data: held.subarray(0, fileStart), continued };
  }

  /** Nothing to cut yet (one file's diff is bigger than the target): look again when twice as much is held. */
  #wait(): undefined {
    this.#nextCut = Math.max(this.#target, this.#length * 2);
    return undefined;
  }

  /** Moves the bytes from `from` on (after `header`, when given) into fresh memory: the old goes with the chunk. */
  #keep(held: Buffer, header: Buffer | undefined, from: number, continued: boolean): void {
    const headerLength = header?.length ?? 0;
    const restLength = held.length - from;
    const next = ownMemory(Math.max(this.#target, headerLength + restLength) + READ_ROOM);
    if (header) header.copy(next, 0);
    held.copy(next, headerLength, from);
    this.#buffer = next;
    this.#length = headerLength + restLength;
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
