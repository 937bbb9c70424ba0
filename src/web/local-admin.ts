// The local admin bootstrap of the embedded default: `<dataDir>/local-admin.json` holds
// `{ "email", "passwordHash": "scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>" }` (written by `npm start`, see
// docs/server.md). A login compares in constant time; a missing or malformed file means no local admin.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  length: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export const LOCAL_ADMIN_FILE_NAME = 'local-admin.json';

export interface LocalAdminCredential {
  email: string;
  passwordHash: string;
}

export async function readLocalAdmin(dataDir: string): Promise<LocalAdminCredential | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(dataDir, LOCAL_ADMIN_FILE_NAME), 'utf8'));
  } catch {
    return undefined;
  }
  const { email, passwordHash } = (parsed ?? {}) as Partial<LocalAdminCredential>;
  if (typeof email !== 'string' || typeof passwordHash !== 'string') return undefined;
  return { email, passwordHash };
}

/** `scrypt$N$r$p$salt$hash` of `password` (what the local-admin file holds). */
export async function hashPassword(password: string, cost = { N: 16_384, r: 8, p: 1 }): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32, { ...cost, maxmem: 128 * cost.N * cost.r * 2 });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 2 ** 20) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (expected.length === 0) return false;
  const actual = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 128 * N * r * 2 });
  return timingSafeEqual(actual, expected);
}
