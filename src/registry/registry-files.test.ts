import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { glob } from 'tinyglobby';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRegistryConfig } from './registry-config.js';
import { findEntryFiles, walkRecursivePatterns } from './registry-files.js';

const scratch = mkdtempSync(join(tmpdir(), 'keyledger-registry-files-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let trees = 0;

function makeTree(paths: string[]): string {
  const root = join(scratch, `tree-${trees++}`);
  mkdirSync(root);
  for (const path of paths) {
    const full = join(root, path);
    // A path that runs through an earlier file (or a file named like an existing directory) is skipped.
    try {
      mkdirSync(dirname(full), { recursive: true });
      if (path.endsWith('/')) mkdirSync(full, { recursive: true });
      else writeFileSync(full, 'key_id: x\n');
    } catch {}
  }
  return root;
}

function globbed(root: string, patterns: string[]): Promise<string[]> {
  return glob(patterns, {
    cwd: root,
    onlyFiles: true,
    dot: false,
    ignore: ['**/node_modules/**', '.git/**'],
    expandDirectories: false,
  }).then((files) => files.sort());
}

const segment = fc.constantFrom('a', 'team-1', '.hidden', 'node_modules', 'x.yaml', 'b_c', '.git');
const fileName = fc.constantFrom(
  'k.yaml',
  'k2.yaml',
  '.dot.yaml',
  'k.yml',
  'k.yaml.bak',
  'K.YAML',
  'yaml',
  '.yaml',
  'a.b.yaml',
);
const treePath = fc.oneof(
  fc.tuple(fc.array(segment, { maxLength: 3 }), fileName).map(([dirs, file]) => ['keys', ...dirs, file].join('/')),
  fc.tuple(fc.array(segment, { minLength: 1, maxLength: 3 })).map(([dirs]) => `${['keys', ...dirs].join('/')}/`),
  fc.tuple(segment, fileName).map(([dir, file]) => `${dir}/${file}`),
);

describe('walkRecursivePatterns', () => {
  it('finds exactly what the glob finds, on generated trees', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(treePath, { maxLength: 25 }), async (paths) => {
        const root = makeTree(paths);
        for (const patterns of [['keys/**/*.yaml'], ['keys/**/*.yaml', 'keys/**/*.yml'], ['keys/a/**/*.yaml']]) {
          expect(walkRecursivePatterns(root, patterns)?.sort()).toEqual(await globbed(root, patterns));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('finds the entries of a registry laid out by team, and none in dot or node_modules directories', async () => {
    const root = makeTree([
      'keys/payments/a.yaml',
      'keys/b.yaml',
      'keys/.drafts/c.yaml',
      'keys/node_modules/d.yaml',
      'keys/old.yaml/e.yaml',
      'keys/notes.md',
    ]);
    expect(await findEntryFiles(root, defaultRegistryConfig())).toEqual([
      'keys/b.yaml',
      'keys/old.yaml/e.yaml',
      'keys/payments/a.yaml',
    ]);
  });

  it('leaves other patterns, and trees with symbolic links, to the glob', async () => {
    const root = makeTree(['keys/a.yaml', 'shared/b.yaml']);
    expect(walkRecursivePatterns(root, ['keys/*.yaml'])).toBeUndefined();
    expect(walkRecursivePatterns(root, ['keys/**/*.{yaml,yml}'])).toBeUndefined();
    expect(walkRecursivePatterns(root, ['**/*.yaml'])).toBeUndefined();
    symlinkSync(join(root, 'shared'), join(root, 'keys', 'shared'));
    expect(walkRecursivePatterns(root, ['keys/**/*.yaml'])).toBeUndefined();
    // The glob follows the link, so the entry behind it is still found.
    expect(await findEntryFiles(root, defaultRegistryConfig())).toEqual(['keys/a.yaml', 'keys/shared/b.yaml']);
  });

  it('finds nothing, without an error, when the directory is missing', () => {
    expect(walkRecursivePatterns(makeTree([]), ['keys/**/*.yaml'])).toEqual([]);
  });
});
