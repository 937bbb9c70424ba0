// The local admin bootstrap file: written 0600 with a scrypt hash only, and a password checks against it.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SecretValue } from '../../secrets/secret-value.js';
import { createLocalAdmin, readLocalAdmin, verifyLocalAdminPassword } from './local-admin.js';

it('keeps only a scrypt hash, mode 0600, that the password and nothing else matches', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyledger-local-admin-'));
  try {
    const created = await createLocalAdmin(dir, new Date('2026-12-01T00:00:00Z'));
    const password = created.password.reveal();
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect((await stat(created.file)).mode & 0o777).toBe(0o600);
    expect(await readFile(created.file, 'utf8')).not.toContain(password);
    const stored = await readLocalAdmin(dir);
    expect(stored).toMatchObject({
      email: 'admin@keyledger.local',
      passwordHash: expect.stringMatching(/^scrypt\$16384\$8\$1\$/),
    });
    expect(await verifyLocalAdminPassword(new SecretValue(password), stored!.passwordHash)).toBe(true);
    expect(await verifyLocalAdminPassword(new SecretValue(`${password}x`), stored!.passwordHash)).toBe(false);
    expect(await verifyLocalAdminPassword(new SecretValue(password), 'md5$abc')).toBe(false);
    expect(await readLocalAdmin(join(dir, 'nowhere'))).toBeUndefined();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
