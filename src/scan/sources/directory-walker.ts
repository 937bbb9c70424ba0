// Lists the files of a directory tree for scanning: skips `.git`, honours every `.gitignore` on the way down
// (unless told not to), does not follow symbolic links, and reports paths joined to the root as the user gave it,
// which is how gitleaks reports them (so `.gitleaksignore` fingerprints carry over).
import { type Dirent, readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import type { FileToScan } from './file-scan-task.js';

interface IgnoreScope {
  /** Directory the .gitignore sits in, relative to the root, '' for the root. */
  base: string;
  matcher: Ignore;
}

export interface WalkOptions {
  respectGitignore: boolean;
  /** Absolute paths never to scan (the config and baseline files, as gitleaks skips them). */
  skip?: Set<string>;
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

function ignored(scopes: IgnoreScope[], relativePath: string, isDirectory: boolean): boolean {
  for (const scope of scopes) {
    const inScope = scope.base === '' ? relativePath : relativePath.slice(scope.base.length + 1);
    if (scope.matcher.ignores(isDirectory ? `${inScope}/` : inScope)) return true;
  }
  return false;
}

/** Yields every file to scan under `root` (absolute), reported under `displayRoot`. */
export async function* walkDirectory(
  root: string,
  displayRoot: string,
  options: WalkOptions,
): AsyncGenerator<FileToScan> {
  const rootStat = statSync(root);
  if (rootStat.isFile()) {
    yield { path: displayRoot, absolute: root, size: rootStat.size };
    return;
  }
  const stack: Array<{ absolute: string; relative: string; scopes: IgnoreScope[] }> = [
    { absolute: root, relative: '', scopes: [] },
  ];
  while (stack.length > 0) {
    const dir = stack.pop() as { absolute: string; relative: string; scopes: IgnoreScope[] };
    let entries: Dirent[];
    try {
      entries = await readdir(dir.absolute, { withFileTypes: true });
    } catch {
      continue;
    }
    let scopes = dir.scopes;
    if (options.respectGitignore && entries.some((entry) => entry.name === '.gitignore' && entry.isFile())) {
      try {
        const matcher = ignore().add(readFileSync(join(dir.absolute, '.gitignore'), 'utf8'));
        scopes = [...scopes, { base: dir.relative, matcher }];
      } catch {
        // An unreadable .gitignore ignores nothing.
      }
    }
    entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
    for (const entry of entries) {
      const relativePath = dir.relative === '' ? entry.name : `${dir.relative}/${entry.name}`;
      const absolute = join(dir.absolute, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === '.git') continue;
        if (options.respectGitignore && ignored(scopes, relativePath, true)) continue;
        stack.push({ absolute, relative: relativePath, scopes });
      } else if (entry.isFile()) {
        if (options.respectGitignore && ignored(scopes, relativePath, false)) continue;
        if (options.skip?.has(absolute)) continue;
        let size = 0;
        try {
          size = statSync(absolute).size;
        } catch {
          continue;
        }
        yield { path: toPosix(join(displayRoot, relativePath)), absolute, size };
      }
    }
  }
}

/** The path of `absolute` relative to `root`, POSIX-style. */
export function relativePosix(root: string, absolute: string): string {
  return toPosix(relative(root, absolute));
}
