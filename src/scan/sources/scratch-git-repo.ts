// A real git repository in a temporary directory, for tests and benchmarks: write files, commit as a named
// author, branch and merge. No mocks: history scans run `git log` on it like on any repository.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export class ScratchGitRepo {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(prefix = 'keyledger-scan-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.env = {
      ...process.env,
      GIT_AUTHOR_NAME: 'Ada Lovelace',
      GIT_AUTHOR_EMAIL: 'ada@example.com',
      GIT_COMMITTER_NAME: 'Ada Lovelace',
      GIT_COMMITTER_EMAIL: 'ada@example.com',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
    };
    this.git('init', '-q', '-b', 'main');
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: this.env, encoding: 'utf8' }).trim();
  }

  write(path: string, text: string): this {
    const absolute = join(this.dir, path);
    mkdirSync(dirname(absolute), { recursive: true });
    writeFileSync(absolute, text);
    return this;
  }

  /** Stages everything and commits; returns the new commit's sha. */
  commit(message: string, author?: { name: string; email: string }): string {
    this.git('add', '-A');
    const env = author ? { ...this.env, GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email } : this.env;
    execFileSync('git', ['commit', '-q', '--allow-empty', '-m', message], { cwd: this.dir, env });
    return this.git('rev-parse', 'HEAD');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
