// The key the event log's chain is HMAC'd under (src/events/event-hash.ts). Kept outside the database — a file in
// the data folder (mode 0600) or KEYLEDGER_EVENT_CHAIN_KEY — so whoever can write the `events` table cannot
// recompute the chain after rewriting a row, as Vault's audit log HMACs under a salt its storage does not hold.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KeyledgerError } from '../errors/keyledger-error.js';

export interface EventChainKey {
  /** A short label written into every keyed hash (`hmac-sha256:<version>:<hex>`), so a row names its key. */
  version: string;
  key: Buffer;
}

export const EVENT_CHAIN_KEY_FILE_NAME = 'event-chain.key';
export const EVENT_CHAIN_KEY_VARIABLE = 'KEYLEDGER_EVENT_CHAIN_KEY';
const VERSION_PATTERN = /^[a-z0-9][a-z0-9-]{0,15}$/;

/** The chain key is missing, unreadable or malformed, or a keyed log is written or read without it. */
export class EventChainKeyError extends KeyledgerError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('E_EVENT_CHAIN_KEY', message, { category: 'config', ...options });
  }
}

/**
 * Loads the chain key from KEYLEDGER_EVENT_CHAIN_KEY (`[version:]` then base64 or hex, at least 32 bytes) or from
 * `keyFile`. With `create` (the default) a missing file is created with a random key, mode 0600; a reader that
 * must not leave anything behind (`events verify`) passes `create: false` and gets null when there is none.
 */
export async function loadEventChainKey(options: {
  env: NodeJS.ProcessEnv;
  keyFile: string;
  create?: boolean;
}): Promise<EventChainKey | null> {
  const fromEnv = options.env[EVENT_CHAIN_KEY_VARIABLE];
  if (fromEnv?.trim()) return parseEventChainKey(fromEnv, EVENT_CHAIN_KEY_VARIABLE);
  try {
    return parseEventChainKey(await readFile(options.keyFile, 'utf8'), options.keyFile);
  } catch (error) {
    if (error instanceof EventChainKeyError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new EventChainKeyError(`cannot read the event chain key file ${options.keyFile}`, { cause: error });
    }
    if (options.create === false) return null;
  }
  await mkdir(dirname(options.keyFile), { recursive: true });
  await writeFile(options.keyFile, `v1:${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' }).catch(
    (error: NodeJS.ErrnoException) => {
      // Another process created it first: use theirs.
      if (error.code !== 'EEXIST') throw error;
    },
  );
  await chmod(options.keyFile, 0o600);
  return loadEventChainKey({ ...options, create: false });
}

/** `v1:<base64>`, `<base64>` or `<hex>`; the source names where it came from in errors (never the text itself). */
export function parseEventChainKey(text: string, source: string): EventChainKey {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const version = colon === -1 ? 'v1' : trimmed.slice(0, colon);
  const encoded = colon === -1 ? trimmed : trimmed.slice(colon + 1);
  if (!VERSION_PATTERN.test(version)) {
    throw new EventChainKeyError(
      `the event chain key from ${source} has a bad version label: use lower-case letters, digits and -`,
    );
  }
  const key =
    /^[0-9a-f]+$/i.test(encoded) && encoded.length % 2 === 0
      ? Buffer.from(encoded, 'hex')
      : Buffer.from(encoded, 'base64');
  if (key.length < 32) {
    throw new EventChainKeyError(`the event chain key from ${source} must be at least 32 bytes (base64 or hex)`);
  }
  return { version, key };
}
