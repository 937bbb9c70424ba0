// Where audit-log records come from: files, folders (every file below, in name order), gzip (by its magic bytes,
// whatever the file is called: CloudTrail delivers `.json.gz`, people rename things) and standard input (`-`).
// Every path is checked before the first byte is read, so a typo fails the command at once instead of after an
// hour of ingest.
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { NotFoundError } from '../errors/keyledger-error.js';

export interface AuditLogSource {
  /** The file's path, or `-`. */
  name: string;
  /** The decompressed bytes. */
  open(): AsyncIterable<Buffer>;
  /** For a file: its path and size on disk, so it can be read in a worker thread (threaded-audit-log-reading.ts). */
  file?: { path: string; bytes: number };
}

const GZIP_MAGIC = [0x1f, 0x8b];
/** Large reads: the cutter's cost is per chunk, and these files are read once, start to end. */
const CHUNK_BYTES = 1024 * 1024;

/** Resolves paths into sources; throws E_AUDIT_LOG_INPUT naming the first path that does not exist. */
export async function auditLogSources(
  paths: readonly string[],
  stdin?: NodeJS.ReadableStream,
): Promise<AuditLogSource[]> {
  const sources: AuditLogSource[] = [];
  for (const path of paths) {
    if (path === '-') {
      if (!stdin) throw new NotFoundError('E_AUDIT_LOG_INPUT', 'standard input (-) is not available here');
      sources.push({ name: '-', open: () => maybeGunzipStream(stdin) });
      continue;
    }
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new NotFoundError('E_AUDIT_LOG_INPUT', `audit log ${path} does not exist`, { path });
    if (info.isDirectory()) {
      for (const file of await filesBelow(path)) sources.push(fileAuditLogSource(file, (await stat(file)).size));
    } else {
      sources.push(fileAuditLogSource(path, info.size));
    }
  }
  return sources;
}

/** A file as a source (gzip or not, told by its first bytes). */
export function fileAuditLogSource(path: string, bytes = 0): AuditLogSource {
  return {
    name: path,
    file: { path, bytes },
    async *open() {
      const gzip = await startsWithGzipMagic(path);
      const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
      yield* (gzip ? stream.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : stream) as AsyncIterable<Buffer>;
    },
  };
}

async function startsWithGzipMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await handle.close();
  }
}

/** A stream that may be gzip: the first chunk decides. */
async function* maybeGunzipStream(stream: NodeJS.ReadableStream): AsyncIterable<Buffer> {
  const iterator = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = typeof first.value === 'string' ? Buffer.from(first.value) : first.value;
  async function* rest(): AsyncIterable<Buffer> {
    yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) {
    const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
    const { Readable } = await import('node:stream');
    yield* Readable.from(rest()).pipe(gunzip) as AsyncIterable<Buffer>;
  } else {
    yield* rest();
  }
}

async function filesBelow(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await filesBelow(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}
