// `.env` files under a folder (or one file): every variable whose value is a registered key (by fingerprint), and
// every variable whose name says it holds a secret. The walk skips what the scanner skips by default
// (src/scan/ walks with the same exclusions: `.git`, `node_modules`), and reads files of at most 1 MiB.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { DiscoverySource, SecretObservation } from '../discovery-source.js';
import { requiredOption, SECRET_LIKE_NAME } from '../discovery-source.js';

const SKIPPED_FOLDERS = new Set(['.git', 'node_modules', '.keyledger']);
const MAX_BYTES = 1024 * 1024;
/** `.env`, `.env.local`, `.env.production`, `prod.env`. */
const ENV_FILE = /^(\.env(\..+)?|.+\.env)$/;

export const dotenvDiscoverySource: DiscoverySource = {
  name: 'dotenv',
  description: '.env files under a folder: variables holding registered keys (by fingerprint) or named like secrets',
  options: { path: { description: 'a folder to walk, or one .env file', required: true } },
  async *observe(context) {
    const root = requiredOption(context, 'path');
    const info = await lstat(root);
    const files = info.isDirectory() ? envFiles(root) : single(root);
    for await (const file of files) {
      const stat = await lstat(file);
      if (stat.size > MAX_BYTES) continue;
      const location = info.isDirectory() ? relative(root, file) : basename(file);
      for (const { name, value } of parseDotenv(await readFile(file, 'utf8'))) {
        const keyId = context.matchSecret(value);
        if (!keyId && !SECRET_LIKE_NAME.test(name)) continue;
        const observation: SecretObservation = {
          location,
          name,
          updatedAt: stat.mtime.toISOString(),
          ...(keyId ? { keyId } : {}),
        };
        yield observation;
      }
    }
  },
};

async function* single(file: string): AsyncIterable<string> {
  yield file;
}

async function* envFiles(folder: string): AsyncIterable<string> {
  const entries = await readdir(folder, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name)) yield* envFiles(path);
    } else if (entry.isFile() && ENV_FILE.test(entry.name)) {
      yield path;
    }
  }
}

/**
 * `NAME=value` lines as dotenv writes them: `export ` prefixes, single or double quotes, `#` comments after an
 * unquoted value. Multi-line quoted values are read up to their closing quote.
 */
export function parseDotenv(text: string): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  const line =
    /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*(?:"((?:\\.|[^"\\])*)"|'([^']*)'|([^\n#]*))/gm;
  for (const match of text.matchAll(line)) {
    const name = match[1]!;
    const value =
      match[2] !== undefined
        ? match[2].replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1')
        : (match[3] ?? match[4] ?? '').trim();
    if (value !== '') out.push({ name, value });
  }
  return out;
}
