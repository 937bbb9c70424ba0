// Turns `git log -p -U0` (or `git diff -U0`) output into scan fragments: for each file of each commit, the added
// lines joined together, with the file line number of each. Scanning added lines only is what gitleaks does: a
// secret is reported once, in the commit that introduced it, not again in every later diff around it.
import type { ScanFragment } from '../engine/scan-engine.js';
import type { CommitInfo } from '../findings/raw-finding.js';

/** Separators of our `--format`: a record starts with RS, fields end with US. */
export const RECORD_SEPARATOR = 0x1e;
export const FIELD_SEPARATOR = 0x1f;
/** `git log --format` producing: RS sha US author US email US date US message US. */
export const GIT_LOG_FORMAT = '--format=%x1e%H%x1f%an%x1f%ae%x1f%aI%x1f%B%x1f';

const PLUS = 0x2b;
const AT = 0x40;
const NEWLINE = 0x0a;
/** Lines up to this long are copied byte by byte. */
const SHORT_LINE = 96;

/** Unquotes a C-style quoted git path (`"dir/caf\303\251.txt"`). */
export function unquoteGitPath(path: string): string {
  if (!path.startsWith('"') || !path.endsWith('"')) return path;
  const bytes: number[] = [];
  const body = path.slice(1, -1);
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = body[i + 1] as string;
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * One file's added lines in one commit, kept as byte ranges of the chunk (not a Buffer per line: history has
 * hundreds of thousands of them) and copied once, newline-joined, into the fragment's data.
 */
class FileCollector {
  /** [start, end) of each added line in the chunk, flattened. */
  readonly ranges: number[] = [];
  readonly lineNumbers: number[] = [];
  #bytes = 0;
  constructor(readonly path: string) {}

  add(start: number, end: number, lineNumber: number): void {
    this.ranges.push(start, end);
    this.lineNumbers.push(lineNumber);
    this.#bytes += end - start;
  }

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  data(chunk: Buffer): Buffer {
    const lines = this.ranges.length / 2;
    const data = Buffer.allocUnsafe(this.#bytes + lines - 1);
    let at = 0;
    for (let i = 0; i < this.ranges.length; i += 2) {
      if (i > 0) data[at++] = NEWLINE;
      const start = this.ranges[i] as number;
      const end = this.ranges[i + 1] as number;
      // Buffer#copy costs more per call than a short line's bytes: history lines average ~36 bytes.
      if (end - start > SHORT_LINE) at += chunk.copy(data, at, start, end);
      else for (let from = start; from < end; from++) data[at++] = chunk[from] as number;
    }
    return data;
  }
}

/**
 * Parses one or more commit records (or a header-less diff, for staged changes) into fragments. `chunk` must hold
 * whole records: the streaming source splits at record separators.
 */
export function parseGitPatch(chunk: Buffer): ScanFragment[] {
  const fragments: ScanFragment[] = [];
  let commit: CommitInfo | undefined;
  let file: FileCollector | undefined;
  let newLine = 0;
  let inHunk = false;

  const flush = () => {
    if (file && !file.empty) {
      fragments.push({
        data: file.data(chunk),
        path: file.path,
        lineNumbers: file.lineNumbers,
        ...(commit ? { commit } : {}),
      });
    }
    file = undefined;
  };

  let at = 0;
  while (at < chunk.length) {
    if (chunk[at] === RECORD_SEPARATOR) {
      flush();
      inHunk = false;
      const header = readCommitHeader(chunk, at + 1);
      if (header) {
        commit = header.commit;
        at = header.end;
        continue;
      }
    }
    let end = chunk.indexOf(NEWLINE, at);
    if (end < 0) end = chunk.length;
    const first = chunk[at];
    if (inHunk && first === PLUS) {
      file?.add(at + 1, end, newLine);
      newLine += 1;
    } else if (inHunk && (first === 0x2d || first === 0x5c)) {
      // A removed line or "\ No newline at end of file": the new file's numbering does not move.
    } else if (inHunk && first === 0x20) {
      newLine += 1;
    } else if (first === AT && chunk[at + 1] === AT) {
      const header = chunk.toString('latin1', at, Math.min(end, at + 200));
      const parts = /^@@@* -[0-9,]+(?: -[0-9,]+)* \+(\d+)/.exec(header);
      newLine = parts ? Number(parts[1]) : 1;
      inHunk = true;
    } else {
      inHunk = false;
      const line = chunk.toString('utf8', at, end);
      if (line.startsWith('diff --git ') || line.startsWith('diff --cc ') || line.startsWith('diff --combined ')) {
        flush();
      } else if (line.startsWith('+++ ')) {
        flush();
        const target = line.slice(4).replace(/\t$/, '');
        if (target !== '/dev/null') {
          const unquoted = unquoteGitPath(target);
          file = new FileCollector(unquoted.startsWith('b/') ? unquoted.slice(2) : unquoted);
        }
      }
    }
    at = end + 1;
  }
  flush();
  return fragments;
}

function readCommitHeader(chunk: Buffer, from: number): { commit: CommitInfo; end: number } | undefined {
  const fields: string[] = [];
  let at = from;
  for (let i = 0; i < 5; i++) {
    const end = chunk.indexOf(FIELD_SEPARATOR, at);
    if (end < 0) return undefined;
    fields.push(chunk.toString('utf8', at, end));
    at = end + 1;
  }
  const [sha, author, email, date, message] = fields as [string, string, string, string, string];
  if (!/^[0-9a-f]{40,64}$/.test(sha)) return undefined;
  return { commit: { sha, author, email, date, message: message.replace(/\n+$/, '') }, end: at };
}

/** Whether a record separator at `at` really starts a commit record (diff text could contain the byte). */
export function isRecordStart(chunk: Buffer, at: number): boolean {
  if (chunk[at] !== RECORD_SEPARATOR) return false;
  if (at + 42 > chunk.length) return true; // cannot tell yet; the caller keeps the tail for the next read
  for (let i = at + 1; i < at + 41; i++) {
    const byte = chunk[i] as number;
    if (!((byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66))) return false;
  }
  return true;
}
