// Reads one named file out of a zip archive (a 1PUX export is a zip holding `export.data`): the end-of-central-
// directory record, the central directory, the local header, then stored or deflated data (the two methods zip
// writers use; anything else is refused). Bounds are checked at every step: a truncated or hostile archive gives
// a clear error, never a read past the buffer.
import { inflateRawSync } from 'node:zlib';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_INFLATED = 512 * 1024 * 1024;

export function readZipEntry(zip: Buffer, wanted: string): Buffer | undefined {
  const eocd = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i += 1) {
    need(zip, at, 46);
    if (zip.readUInt32LE(at) !== CENTRAL) throw new Error('zip central directory is corrupt');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localAt = zip.readUInt32LE(at + 42);
    need(zip, at + 46, nameLength);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name !== wanted) continue;
    need(zip, localAt, 30);
    if (zip.readUInt32LE(localAt) !== LOCAL) throw new Error('zip local header is corrupt');
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    need(zip, dataAt, compressed);
    const data = zip.subarray(dataAt, dataAt + compressed);
    if (method === 0) return data;
    if (method === 8) {
      if (size > MAX_INFLATED) throw new Error(`zip entry ${name} is larger than ${MAX_INFLATED} bytes`);
      return inflateRawSync(data, { maxOutputLength: Math.max(size, 1) });
    }
    throw new Error(`zip entry ${name} uses compression method ${method}, which is not supported`);
  }
  return undefined;
}

function findEndOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65,535 bytes, at the end of the file.
  const lowest = Math.max(0, zip.length - 22 - 0xffff);
  for (let at = zip.length - 22; at >= lowest; at -= 1) if (zip.readUInt32LE(at) === EOCD) return at;
  throw new Error('not a zip archive (no end of central directory)');
}

function need(zip: Buffer, at: number, length: number): void {
  if (at < 0 || at + length > zip.length) throw new Error('zip archive is truncated');
}
