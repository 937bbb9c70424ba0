// The local admin bootstrap of the embedded default (issue 17: "a local admin bootstrap"): one account whose
// password `keyledger start` generates, prints once and keeps only as a scrypt hash in
// `<data folder>/local-admin.json` (mode 0600), `{ "email", "passwordHash", "createdAt" }`. The dashboard's login
// page (src/web/) reads the file and checks a password with verifyLocalAdminPassword; docs/server.md gives the
// hash format: `scrypt$<N>$<r>$<p>$<salt, base64url>$<64-byte key, base64url>`.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { ConfigError } from '../../errors/keyledger-error.js';
import { SecretValue } from '../../secrets/secret-value.js';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  length: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export const LOCAL_ADMIN_FILE_NAME = 'local-admin.json';
export const LOCAL_ADMIN_EMAIL = 'admin@keyledger.local';
const KEY_LENGTH = 64;
const COST = { N: 16_384, r: 8, p: 1 } as const;

export const localAdminFileSchema = z.strictObject({
  email: z.email(),
  passwordHash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/),
  createdAt: z.string(),
});
export type LocalAdminFile = z.output<typeof localAdminFileSchema>;

export async function hashLocalAdminPassword(password: SecretValue): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.reveal(), salt, KEY_LENGTH, { ...COST, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyLocalAdminPassword(password: SecretValue, passwordHash: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = passwordHash.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scrypt(password.reveal(), Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * 1024 * 1024,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Generates the password, writes its hash to `<dataDir>/local-admin.json` (0600), returns the password once. */
export async function createLocalAdmin(
  dataDir: string,
  now: Date,
  email = LOCAL_ADMIN_EMAIL,
): Promise<{ email: string; password: SecretValue; file: string }> {
  const password = new SecretValue(randomBytes(18).toString('base64url'));
  const file = join(dataDir, LOCAL_ADMIN_FILE_NAME);
  const content: LocalAdminFile = {
    email,
    passwordHash: await hashLocalAdminPassword(password),
    createdAt: now.toISOString(),
  };
  await writeFile(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  return { email, password, file };
}

export async function readLocalAdmin(dataDir: string): Promise<LocalAdminFile | undefined> {
  const file = join(dataDir, LOCAL_ADMIN_FILE_NAME);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = localAdminFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new ConfigError(`${file} is not a local admin file: ${parsed.error.issues[0]?.message}`, {
      code: 'E_LOCAL_ADMIN',
      position: { file },
    });
  return parsed.data;
}
