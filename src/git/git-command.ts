// Runs git. Registry writes and `validate --changed-since` go through here; errors carry git's own message.
import { execFile } from 'node:child_process';
import { KeyledgerError } from '../errors/keyledger-error.js';

export class GitError extends KeyledgerError {
  constructor(args: readonly string[], stderr: string, cause?: unknown) {
    const first = stderr.trim().split('\n').slice(0, 3).join(' / ') || 'git failed';
    super('E_GIT', `git ${args[0] ?? ''}: ${first}`, {
      category: 'external',
      details: { args: args.slice(0, 1) },
      cause,
    });
  }
}

export interface GitOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
}

export function runGit(args: readonly string[], options: GitOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      [...args],
      { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new GitError(args, stderr || error.message, error));
        else resolve(stdout);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export interface GitOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs git and answers its exit code and both outputs instead of throwing on a non-zero exit: `git push --porcelain`
 * says on stdout which refs were rejected and why, and its caller (src/registry/registry-remote.ts) needs that to
 * tell a lost race from a refused push.
 */
export function runGitOutcome(args: readonly string[], options: GitOptions): Promise<GitOutcome> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      [...args],
      { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = (error as (NodeJS.ErrnoException & { code?: unknown }) | null)?.code;
        if (error && typeof code !== 'number') reject(new GitError(args, stderr || error.message, error));
        else resolve({ code: typeof code === 'number' ? code : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** True when `dir` is inside a git work tree. */
export async function isGitWorkTree(dir: string): Promise<boolean> {
  try {
    return (await runGit(['rev-parse', '--is-inside-work-tree'], { cwd: dir })).trim() === 'true';
  } catch {
    return false;
  }
}

/** Files changed since `revision` (committed, staged, unstaged and untracked), relative to `cwd`. */
export async function filesChangedSince(revision: string, cwd: string): Promise<string[]> {
  try {
    await runGit(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], { cwd });
  } catch (error) {
    throw new KeyledgerError('E_GIT_REVISION', `unknown git revision "${revision}"`, {
      category: 'usage',
      cause: error,
    });
  }
  const changed = await runGit(['diff', '--name-only', '--relative', '--diff-filter=ACMRT', revision, '--'], { cwd });
  const untracked = await runGit(['ls-files', '--others', '--exclude-standard'], { cwd });
  return [...new Set([...changed.split('\n'), ...untracked.split('\n')].filter(Boolean))].sort();
}

/**
 * `-c user.name=… -c user.email=…` when git has no identity configured (CI machines), so a commit is made as
 * `author` rather than refused; nothing when the user's own identity is set.
 */
export async function identityFallbackArgs(
  options: GitOptions,
  author: { name: string; email: string },
): Promise<string[]> {
  try {
    await runGit(['var', 'GIT_COMMITTER_IDENT'], options);
    return [];
  } catch {
    return ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`];
  }
}
