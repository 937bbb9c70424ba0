import { spawn } from 'node:child_process';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGit } from '../git/git-command.js';
import { defaultRegistryConfig } from './registry-config.js';
import { RegistryWriter } from './registry-writer.js';
import { GIT_TEST_ENV, makeRegistry, SEED_EXAMPLE, seedExampleWith } from './test-support/registry-fixtures.js';

const config = defaultRegistryConfig();
const author = { name: 'Keyledger Bot', email: 'bot@example.com' };

async function writerFor(files: Record<string, string>) {
  const root = await makeRegistry(files, { git: true });
  return { root, writer: new RegistryWriter({ root, config, author, env: GIT_TEST_ENV }) };
}

async function log(root: string): Promise<string[]> {
  return (await runGit(['log', '--format=%s|%an <%ae>'], { cwd: root })).trim().split('\n');
}

const newEntry = {
  key_id: 'search-openai-001',
  purpose: 'Embeddings for search',
  owner_team: 'search',
  owner_individual: 'sam@example.com',
  created_at: '2026-11-23T10:00:00Z',
  expiration: '2027-05-22T10:00:00Z',
  scope: { provider: 'openai', permissions: ['model.request'] },
  storage: { store: 'default', path: 'search/openai' },
  audit: { rotation_frequency_days: 90 },
};

describe('RegistryWriter', () => {
  it('creates an entry as one commit, fields in the article’s order', async () => {
    const { root, writer } = await writerFor({});
    const result = await writer.create(newEntry);
    expect(result.file).toBe('keys/search-openai-001.yaml');
    const text = await readFile(join(root, result.file), 'utf8');
    expect(text.indexOf('key_id')).toBeLessThan(text.indexOf('owner_team'));
    expect(text.indexOf('owner_team')).toBeLessThan(text.indexOf('scope'));
    expect((await log(root))[0]).toBe('keyledger: create search-openai-001|Keyledger Bot <bot@example.com>');
    expect(result.commit).toBe((await runGit(['rev-parse', 'HEAD'], { cwd: root })).trim());
    expect(await runGit(['status', '--porcelain'], { cwd: root })).toBe('');
  });

  it('refuses to create a key_id that exists in any file', async () => {
    const { writer } = await writerFor({ 'keys/custom-name.yaml': seedExampleWith('search-openai-001') });
    await expect(writer.create(newEntry)).rejects.toMatchObject({ code: 'E_REGISTRY_DUPLICATE' });
  });

  it('refuses an entry that fails the schema, writing nothing', async () => {
    const { root, writer } = await writerFor({});
    await expect(writer.create({ ...newEntry, expiration: 'someday' })).rejects.toMatchObject({
      code: 'E_REGISTRY_INVALID_ENTRY',
    });
    expect(await readdir(root)).not.toContain('keys');
  });

  it('updates a hand-written file keeping its comments, quoting and key order', async () => {
    const { root, writer } = await writerFor({ 'keys/payments-stripe-live.yaml': SEED_EXAMPLE });
    await writer.update('payments-stripe-live-001', {
      last_rotated: '2026-11-23T12:00:00Z',
      audit: { last_audit: '2026-11-23' },
      status: 'rotating',
    });
    const text = await readFile(join(root, 'keys/payments-stripe-live.yaml'), 'utf8');
    expect(text).toBe(
      SEED_EXAMPLE.replace('last_rotated: 2026-04-01T10:00:00Z', 'last_rotated: 2026-11-23T12:00:00Z').replace(
        'last_audit: 2026-04-01',
        'last_audit: 2026-11-23',
      ) + 'status: rotating\n',
    );
    expect((await log(root))[0]).toBe('keyledger: update payments-stripe-live-001|Keyledger Bot <bot@example.com>');
  });

  it('removes a field when the patch says undefined, and refuses to change key_id', async () => {
    const { root, writer } = await writerFor({ 'keys/a.yaml': SEED_EXAMPLE });
    await writer.update('payments-stripe-live-001', { consumed_by: undefined });
    expect(await readFile(join(root, 'keys/a.yaml'), 'utf8')).not.toContain('consumed_by');
    await expect(writer.update('payments-stripe-live-001', { key_id: 'other' })).rejects.toMatchObject({
      code: 'E_REGISTRY_INVALID_ENTRY',
    });
  });

  it('deletes an entry as one commit', async () => {
    const { root, writer } = await writerFor({ 'keys/a.yaml': SEED_EXAMPLE });
    await writer.delete('payments-stripe-live-001');
    expect(await readdir(join(root, 'keys')).catch(() => [])).toEqual([]);
    expect((await log(root))[0]).toMatch(/^keyledger: delete payments-stripe-live-001\|/);
    expect(await runGit(['status', '--porcelain'], { cwd: root })).toBe('');
  });

  it('says which key is missing', async () => {
    const { writer } = await writerFor({});
    await expect(writer.update('nope', { status: 'revoked' })).rejects.toMatchObject({ code: 'E_KEY_NOT_FOUND' });
  });

  it('refuses to edit a file with uncommitted changes rather than commit someone else’s work', async () => {
    const { root, writer } = await writerFor({ 'keys/a.yaml': SEED_EXAMPLE });
    await writeFile(join(root, 'keys/a.yaml'), `${SEED_EXAMPLE}# my local edit\n`);
    await expect(writer.update('payments-stripe-live-001', { status: 'revoked' })).rejects.toMatchObject({
      code: 'E_REGISTRY_DIRTY',
    });
    expect(await readFile(join(root, 'keys/a.yaml'), 'utf8')).toContain('# my local edit');
  });

  it('commits only its own file, leaving other staged work staged', async () => {
    const { root, writer } = await writerFor({ 'keys/a.yaml': SEED_EXAMPLE });
    await writeFile(join(root, 'README.md'), 'staged by a person\n');
    await runGit(['add', 'README.md'], { cwd: root });
    await writer.create(newEntry);
    expect((await runGit(['show', '--name-only', '--format=', 'HEAD'], { cwd: root })).trim()).toBe(
      'keys/search-openai-001.yaml',
    );
    expect(await runGit(['status', '--porcelain'], { cwd: root })).toBe('A  README.md\n');
  });

  it('restores the file when the commit fails', async () => {
    const { root, writer } = await writerFor({ 'keys/a.yaml': SEED_EXAMPLE });
    // A pre-existing index.lock makes git refuse to commit.
    const gitDir = (await runGit(['rev-parse', '--absolute-git-dir'], { cwd: root })).trim();
    await writeFile(join(gitDir, 'index.lock'), '');
    await expect(writer.update('payments-stripe-live-001', { status: 'revoked' })).rejects.toMatchObject({
      code: 'E_REGISTRY_COMMIT',
    });
    expect(await readFile(join(root, 'keys/a.yaml'), 'utf8')).toBe(SEED_EXAMPLE);
    await expect(writer.create(newEntry)).rejects.toMatchObject({ code: 'E_REGISTRY_COMMIT' });
    expect(await readdir(join(root, 'keys'))).toEqual(['a.yaml']);
  });

  it('serialises concurrent writers in one process: every change is its own commit', async () => {
    const { root, writer } = await writerFor({});
    const other = new RegistryWriter({ root, config, author, env: GIT_TEST_ENV });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? writer : other).create({ ...newEntry, key_id: `key-${i}` })),
    );
    const subjects = await log(root);
    expect(subjects.filter((s) => s.startsWith('keyledger: create'))).toHaveLength(12);
    expect((await readdir(join(root, 'keys'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('serialises writers in separate processes', async () => {
    const { root } = await writerFor({});
    const script = join(import.meta.dirname, 'test-support', 'write-entries-process.ts');
    const runs = [0, 1, 2].map(
      (worker) =>
        new Promise<number>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', script, root, String(worker), '4'], {
            env: { ...process.env, ...GIT_TEST_ENV },
            stdio: 'inherit',
          });
          child.on('exit', (code) => resolve(code ?? 1));
        }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0]);
    expect((await log(root)).filter((s) => s.startsWith('keyledger: create'))).toHaveLength(12);
  });

  it('takes over a lock left empty by a holder killed before it wrote its pid, or held past any write', async () => {
    const { root, writer } = await writerFor({});
    const gitDir = (await runGit(['rev-parse', '--absolute-git-dir'], { cwd: root })).trim();
    const lock = join(gitDir, 'keyledger-writer.lock');
    const old = new Date(Date.now() - 10 * 60_000);
    await writeFile(lock, '');
    await utimes(lock, old, old);
    await expect(writer.create({ ...newEntry, key_id: 'after-empty-lock' })).resolves.toMatchObject({
      keyId: 'after-empty-lock',
    });
    // A live pid (ours is not reused here: the parent's) on a lock untouched for ten minutes is a reused pid.
    await writeFile(lock, `${process.ppid}\n`);
    await utimes(lock, old, old);
    await expect(writer.create({ ...newEntry, key_id: 'after-reused-pid' })).resolves.toMatchObject({
      keyId: 'after-reused-pid',
    });
  });

  it('a process killed mid-write leaves every file whole', async () => {
    const { root } = await writerFor({ 'keys/a.yaml': SEED_EXAMPLE });
    const script = join(import.meta.dirname, 'test-support', 'write-entries-process.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, root, '9', '200'], {
      env: { ...process.env, ...GIT_TEST_ENV },
      stdio: 'ignore',
    });
    // Kill it at an arbitrary moment once it is writing: after a few entries have landed.
    const deadline = Date.now() + 30_000;
    while ((await readdir(join(root, 'keys'))).length < 4 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 50));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    const { analyzeEntryText } = await import('./entry-analysis.js');
    const files = (await readdir(join(root, 'keys'))).filter((file) => file.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) {
      const analysis = analyzeEntryText(file, await readFile(join(root, 'keys', file), 'utf8'));
      expect(analysis.issues.filter((issue) => issue.severity === 'error')).toEqual([]);
    }
    // The next writer takes over the dead process's lock instead of waiting forever.
    const writer = new RegistryWriter({ root, config, author, env: GIT_TEST_ENV, lockTimeoutMs: 5000 });
    await runGit(['add', '-A'], { cwd: root }).catch(() => undefined);
    await runGit(['commit', '-qm', 'tidy', '--allow-empty'], { cwd: root, env: GIT_TEST_ENV }).catch(() => undefined);
    await expect(writer.create({ ...newEntry, key_id: 'after-crash' })).resolves.toMatchObject({
      keyId: 'after-crash',
    });
  });
});
