// The registry load cache: a second load re-parses only what changed, reports exactly what a load without the cache
// reports (issues with file, line and field), and a damaged or foreign cache is ignored, never trusted.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRegistryConfig } from './registry-config.js';
import { registryLoadCachePath } from './registry-load-cache.js';
import { loadRegistry, type RegistryLoadOptions } from './registry-loader.js';
import { makeRegistry, seedExampleWith } from './test-support/registry-fixtures.js';

const config = defaultRegistryConfig();
const now = new Date('2026-11-23T00:00:00Z');
// Files written by the test are seconds old at most: with the production window none would be cached.
const cache = { racyWindowMs: 0 };

async function registryOf(count: number): Promise<string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`keys/k${i}.yaml`] = seedExampleWith(`k${i}`);
  // A policy violation (no owner_team), an unknown field, a schema error and a YAML error: each must be reported the
  // same from a warm cache; only the first is cached (the policy is applied on every load).
  files['keys/no-team.yaml'] = seedExampleWith('no-team', [['owner_team: payments\n', '']]);
  files['keys/unknown.yaml'] = `${seedExampleWith('unknown')}colour: blue\n`;
  files['keys/schema.yaml'] = seedExampleWith('schema', [
    ['rotation_frequency_days: 365', 'rotation_frequency_days: often'],
  ]);
  files['keys/broken.yaml'] = 'key_id: [unclosed\n';
  return makeRegistry(files);
}

const load = (root: string, extra: Partial<RegistryLoadOptions> = {}) =>
  loadRegistry({ root, config, applyPolicy: true, includeEntries: true, now, threads: 1, ...extra });

describe('registry load cache', () => {
  it('re-parses only the file that changed, and reports what a load without the cache reports', async () => {
    const root = await registryOf(20);
    const first = await load(root, { cache });
    expect(first.cache).toEqual({ reused: 0, parsed: 24, written: true });
    const second = await load(root, { cache });
    // The three files with findings of parsing are never cached; the entry without a team is, and the policy finds
    // it again.
    expect(second.cache).toEqual({ reused: 21, parsed: 3, written: false });

    await writeFile(join(root, 'keys/k7.yaml'), seedExampleWith('k7', [['owner_individual: alice@example.com\n', '']]));
    const third = await load(root, { cache });
    expect(third.cache).toEqual({ reused: 20, parsed: 4, written: true });
    const uncached = await load(root);
    expect(uncached.cache).toBeUndefined();
    expect(third.issues).toEqual(uncached.issues);
    expect(third.entries).toEqual(uncached.entries);
    expect([...third.keyIds]).toEqual([...uncached.keyIds]);
    expect(third.issues.filter((issue) => issue.file === 'keys/k7.yaml').map((issue) => issue.rule)).toContain(
      'owner-required',
    );
    expect(new Set(third.issues.map((issue) => issue.file))).toEqual(
      new Set(['keys/k7.yaml', 'keys/no-team.yaml', 'keys/unknown.yaml', 'keys/schema.yaml', 'keys/broken.yaml']),
    );
  });

  it('applies the policy of this load to cached entries, with positions, and leaves entries out when not asked', async () => {
    const root = await registryOf(5);
    await load(root, { cache, applyPolicy: false });
    // Cached while the policy was off; a validate later finds the expired key at its line.
    const later = new Date('2028-01-01T00:00:00Z');
    const warm = await load(root, { cache, now: later, includeEntries: false });
    const cold = await load(root, { now: later, includeEntries: false });
    expect(warm.cache?.reused).toBe(6);
    expect(warm.issues).toEqual(cold.issues);
    expect(warm.issues.some((issue) => issue.file === 'keys/k0.yaml' && issue.line !== undefined)).toBe(true);
    expect(warm.entries).toEqual([]);
    // Only the listed files are checked against the policy, as without the cache.
    const only = await load(root, { cache, now: later, onlyFiles: ['keys/k1.yaml'] });
    const onlyCold = await load(root, { now: later, onlyFiles: ['keys/k1.yaml'] });
    expect(only.issues).toEqual(onlyCold.issues);
  });

  it('sees a change that keeps the size and puts the modification time back', async () => {
    const root = await registryOf(3);
    const file = join(root, 'keys/k1.yaml');
    await load(root, { cache });
    const before = await stat(file);
    await writeFile(file, (await readFile(file, 'utf8')).replace('owner_team: payments', 'owner_team: paymentz'));
    await utimes(file, before.atime, before.mtime);
    const after = await load(root, { cache });
    expect(after.entries.find(({ file }) => file === 'keys/k1.yaml')?.entry.owner_team).toBe('paymentz');
  });

  it('on a registry large enough to stamp its files in a worker thread, re-reads an entry edited in place', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 2_100; i++) files[`keys/k${i}.yaml`] = seedExampleWith(`k${i}`);
    const root = await makeRegistry(files);
    expect((await load(root, { cache })).cache).toEqual({ reused: 0, parsed: 2_100, written: true });
    expect((await load(root, { cache })).cache).toEqual({ reused: 2_100, parsed: 0, written: false });
    // In place, as an editor saving over the file does (the directory does not change), keeping the size, and with
    // the modification time put back to the nanosecond (`touch -r` from a copy made first): only the change time
    // tells.
    const file = join(root, 'keys/k1234.yaml');
    const reference = join(root, 'k1234.reference');
    execFileSync('cp', ['-p', file, reference]);
    const before = await stat(file, { bigint: true });
    await writeFile(file, (await readFile(file, 'utf8')).replace('owner_team: payments', 'owner_team: paymentz'));
    execFileSync('touch', ['-r', reference, file]);
    const edited = await stat(file, { bigint: true });
    expect([edited.size, edited.mtimeNs, edited.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    const after = await load(root, { cache });
    expect(after.cache).toEqual({ reused: 2_099, parsed: 1, written: true });
    expect(after.entries.find(({ file }) => file === 'keys/k1234.yaml')?.entry.owner_team).toBe('paymentz');
    expect(after.entries).toEqual((await load(root)).entries);
  });

  it('does not cache a file changed within the racy window, and re-reads it next time', async () => {
    const root = await registryOf(3);
    const first = await load(root, { cache: true });
    expect(first.cache?.written).toBe(false);
    expect((await load(root, { cache: true })).cache?.reused).toBe(0);
  });

  it.each([
    ['garbage', (_: Buffer) => Buffer.from('not a cache at all')],
    ['a truncated cache', (bytes: Buffer) => bytes.subarray(0, bytes.length - 200)],
    ['a changed byte in the body', (bytes: Buffer) => flipLastLetter(bytes)],
    [
      'a cache of other code',
      (bytes: Buffer) =>
        Buffer.from(bytes.toString('latin1').replace(/ [0-9a-f]{32} /, ` ${'0'.repeat(32)} `), 'latin1'),
    ],
    ['an empty file', (_: Buffer) => Buffer.alloc(0)],
  ])('ignores %s and writes a good one again', async (_, damage) => {
    const root = await registryOf(6);
    const good = await load(root, { cache });
    const path = registryLoadCachePath(root);
    await writeFile(path, damage(await readFile(path)));
    const after = await load(root, { cache });
    expect(after.cache).toEqual({ reused: 0, parsed: 10, written: true });
    expect(after.entries).toEqual(good.entries);
    expect(after.issues).toEqual(good.issues);
    expect((await load(root, { cache })).cache?.reused).toBe(7);
  });

  it('keeps the cache in the git directory of a git registry, and forgets removed files', async () => {
    const root = await makeRegistry(
      { 'keys/a.yaml': seedExampleWith('a'), 'keys/b.yaml': seedExampleWith('b') },
      { git: true },
    );
    expect(registryLoadCachePath(root)).toBe(join(root, '.git', 'keyledger', 'registry-load-cache'));
    await load(root, { cache });
    expect(existsSync(join(root, '.git', 'keyledger', 'registry-load-cache'))).toBe(true);
    expect(existsSync(join(root, '.keyledger'))).toBe(false);
    await rm(join(root, 'keys/b.yaml'));
    const after = await load(root, { cache });
    expect(after.cache).toEqual({ reused: 1, parsed: 0, written: true });
    expect(after.entries.map(({ entry }) => entry.key_id)).toEqual(['a']);
  });
});

/** The body's last letter changed to another: the JSON still parses, only the checksum can tell. */
function flipLastLetter(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  for (let at = copy.length - 1; at > 0; at--) {
    const byte = copy[at]!;
    if (byte >= 0x61 && byte <= 0x7a) {
      copy[at] = byte === 0x7a ? 0x61 : byte + 1;
      return copy;
    }
  }
  throw new Error('no letter in the cache');
}
