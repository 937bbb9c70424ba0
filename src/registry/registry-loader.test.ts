import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultRegistryConfig } from './registry-config.js';
import { loadRegistry } from './registry-loader.js';
import { makeRegistry, seedExampleWith } from './test-support/registry-fixtures.js';

const config = defaultRegistryConfig();
const now = new Date('2026-11-23T00:00:00Z');

describe('loadRegistry', () => {
  it('reports the same key_id in two files as an error naming both', async () => {
    const root = await makeRegistry({
      'keys/a.yaml': seedExampleWith('dup-key'),
      'keys/team/b.yaml': `# a copy\n${seedExampleWith('dup-key')}`,
      'keys/c.yaml': seedExampleWith('unique-key'),
    });
    const result = await loadRegistry({ root, config, applyPolicy: true, includeEntries: false, now });
    const duplicates = result.issues.filter((issue) => issue.rule === 'duplicate-key-id');
    expect(duplicates.map((issue) => [issue.file, issue.line, issue.message])).toEqual([
      ['keys/a.yaml', 2, 'key_id "dup-key" is also defined in keys/team/b.yaml'],
      ['keys/team/b.yaml', 3, 'key_id "dup-key" is also defined in keys/a.yaml'],
    ]);
  });

  it('finds files with the configured globs only', async () => {
    const root = await makeRegistry({
      'keys/a.yaml': seedExampleWith('a'),
      'keys/nested/deep/b.yaml': seedExampleWith('b'),
      'keys/notes.md': 'not an entry',
      'other/c.yaml': seedExampleWith('c'),
      'other/archive.yaml/d.yaml': seedExampleWith('d'),
    });
    const result = await loadRegistry({ root, config, applyPolicy: false, includeEntries: true });
    expect(result.files).toEqual(['keys/a.yaml', 'keys/nested/deep/b.yaml']);
    const custom = await loadRegistry({
      root,
      config: { ...config, registry: { keys: ['other/*.yaml', 'keys/*.yaml'] } },
      applyPolicy: false,
      includeEntries: true,
    });
    expect(custom.entries.map((e) => e.entry.key_id).sort()).toEqual(['a', 'c']);
  });

  it('gives the same result inline and across worker threads', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) {
      files[`keys/k${i}.yaml`] =
        i % 7 === 0 ? seedExampleWith(`k${i}`, [['owner_team: payments\n', '']]) : seedExampleWith(`k${i}`);
    }
    files['keys/broken.yaml'] = 'key_id: [unclosed\n';
    const root = await makeRegistry(files);
    const inline = await loadRegistry({ root, config, applyPolicy: true, includeEntries: true, now, threads: 1 });
    const threaded = await loadRegistry({ root, config, applyPolicy: true, includeEntries: true, now, threads: 2 });
    expect(threaded.issues).toEqual(inline.issues);
    expect(threaded.entries).toEqual(inline.entries);
    expect(inline.issues.filter((issue) => issue.rule === 'owner-required')).toHaveLength(6);
    expect(inline.issues.some((issue) => issue.rule === 'yaml-syntax' && issue.file === 'keys/broken.yaml')).toBe(true);
  });

  it('keeps every analysis in its place when workers hand results back in chunks', async () => {
    // 601 files over 2 workers: each worker's batch spans two chunks of the chunked reader (256 files).
    const files: Record<string, string> = {};
    for (let i = 0; i < 601; i++) {
      files[`keys/k${String(i).padStart(3, '0')}.yaml`] =
        i % 50 === 0 ? seedExampleWith(`k${i}`, [['owner_team: payments\n', '']]) : seedExampleWith(`k${i}`);
    }
    const root = await makeRegistry(files);
    const inline = await loadRegistry({ root, config, applyPolicy: true, includeEntries: false, now, threads: 1 });
    const threaded = await loadRegistry({ root, config, applyPolicy: true, includeEntries: false, now, threads: 2 });
    expect(threaded.issues).toEqual(inline.issues);
    expect([...threaded.keyIds]).toEqual([...inline.keyIds]);
    // Three workers, and the calling thread with two workers, claim chunks from one counter.
    for (const options of [{ threads: 3 }, { threads: 3, useCallingThread: true }]) {
      const shared = await loadRegistry({ root, config, applyPolicy: true, includeEntries: true, now, ...options });
      expect(shared.issues).toEqual(inline.issues);
      expect(shared.entries.map((loaded) => loaded.file)).toEqual(shared.files);
    }
    expect(threaded.keyIds.get('k600')).toBe('keys/k600.yaml');
    expect(inline.issues.filter((issue) => issue.rule === 'owner-required').map((issue) => issue.file)).toHaveLength(
      13,
    );
  });

  it('starts workers early when the git index suggests a large registry, and stops them when it is small', async () => {
    const root = await makeRegistry({ 'keys/a.yaml': seedExampleWith('a'), 'keys/b.yaml': seedExampleWith('b') });
    await mkdir(join(root, '.git'), { recursive: true });
    await writeFile(join(root, '.git', 'index'), Buffer.alloc(400_000));
    const result = await loadRegistry({ root, config, applyPolicy: true, includeEntries: true, now });
    const inline = await loadRegistry({ root, config, applyPolicy: true, includeEntries: true, now, threads: 1 });
    expect(result.entries).toEqual(inline.entries);
    expect(result.issues).toEqual(inline.issues);
  });

  it('reports only the files asked for, but still catches a duplicate of an unchanged file', async () => {
    const root = await makeRegistry({
      'keys/old.yaml': seedExampleWith('same', [['owner_team: payments\n', '']]),
      'keys/new.yaml': seedExampleWith('same'),
    });
    const result = await loadRegistry({
      root,
      config,
      applyPolicy: true,
      includeEntries: false,
      now,
      onlyFiles: ['keys/new.yaml'],
    });
    expect(result.issues.map((issue) => [issue.file, issue.rule])).toEqual([['keys/new.yaml', 'duplicate-key-id']]);
  });
});

describe('registry input fuzzing', () => {
  // Whatever bytes a file holds, loading never throws: it yields an entry or typed issues with positions.
  const yamlish = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.stringMatching(/^[a-z_: \n\-[\]{}"'#&*!|>%@`,?0-9.]{0,200}$/),
    fc
      .tuple(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 40 }), fc.string({ maxLength: 20 }))
      .map(([at, cut, insert]) => {
        const base = seedExampleWith('fuzz');
        return base.slice(0, at) + insert + base.slice(at + cut);
      }),
  );

  it('never crashes and always places an issue', async () => {
    const { analyzeEntryText } = await import('./entry-analysis.js');
    const { compilePolicy } = await import('./policy/policy-engine.js');
    const policy = compilePolicy(config.policy, now);
    fc.assert(
      fc.property(yamlish, (text) => {
        const analysis = analyzeEntryText('keys/fuzz.yaml', text, policy);
        for (const issue of analysis.issues) {
          expect(issue.file).toBe('keys/fuzz.yaml');
          expect(typeof issue.rule).toBe('string');
          expect(issue.message.length).toBeGreaterThan(0);
          expect(issue.line).toBeGreaterThanOrEqual(1);
          expect(issue.column).toBeGreaterThanOrEqual(1);
        }
        if (!analysis.entry) expect(analysis.issues.some((issue) => issue.severity === 'error')).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });
});
