// Real git repositories for the GitHub and GitLab sandboxes, served over smart HTTP by git's own `git http-backend`
// (a CGI program: the request goes in through environment variables and stdin, the answer comes out as CGI headers
// and a body). Repositories are bare, under a temporary root, named by their full path (`acme/api`); commits are
// made with real git, so `keyledger scan org` clones, fetches and scans exactly what it would on the real host.
// Who may read is the sandbox's business (its tokens); this module only creates, commits and serves.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SandboxAnswer, SandboxRequest } from './sandbox-server.js';

export interface GitCommitAuthor {
  name: string;
  email: string;
}

/** A path of a smart-HTTP request (`/acme/api.git/info/refs`) split into repository and service part. */
export interface GitHttpPath {
  /** `acme/api` (without `.git`). */
  repository: string;
  /**
   * `info/refs` or `git-upload-pack`; `git-receive-pack` only where pushes are served (the registry's remote,
   * git-remote-sandbox.ts): the provider sandboxes are read-only over HTTP.
   */
  service: 'info/refs' | 'git-upload-pack' | 'git-receive-pack';
}

const GIT_PATH = /^\/(.+?)(?:\.git)?\/(info\/refs|git-upload-pack)$/;
const GIT_PUSH_PATH = /^\/(.+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/;

/** The repository and service a request path names, or undefined for a path that is not git's (or a push, unless `push`). */
export function gitHttpPath(path: string, options: { push?: boolean } = {}): GitHttpPath | undefined {
  const found = (options.push ? GIT_PUSH_PATH : GIT_PATH).exec(path);
  if (!found) return undefined;
  return { repository: found[1] as string, service: found[2] as GitHttpPath['service'] };
}

/** The password of `Authorization: Basic` (git sends the token there), or the token of `Bearer`. */
export function gitHttpToken(request: SandboxRequest): { username?: string; token: string } | undefined {
  const header = request.headers.authorization?.trim() ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return { token: bearer[1] as string };
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), token: decoded.slice(colon + 1) };
}

/** Splits a CGI answer into status, headers and body (`Status: 404 Not Found` sets the status; default 200). */
export function parseCgiAnswer(output: Buffer): SandboxAnswer {
  let end = output.indexOf('\r\n\r\n');
  let separator = 4;
  const lf = output.indexOf('\n\n');
  if (end < 0 || (lf >= 0 && lf < end)) {
    end = lf;
    separator = 2;
  }
  if (end < 0) return { status: 502, body: 'git http-backend answered without headers' };
  const headers: Record<string, string> = {};
  let status = 200;
  for (const line of output.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers, body: output.subarray(end + separator) };
}

export class GitHttpHosting {
  readonly root: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'keyledger-sandbox-git-'));
  }

  #dir(repository: string): string {
    return join(this.root, `${repository}.git`);
  }

  has(repository: string): boolean {
    return existsSync(join(this.#dir(repository), 'HEAD'));
  }

  /** Creates an empty bare repository whose default branch is `main`. */
  create(repository: string): void {
    if (this.has(repository)) return;
    const dir = this.#dir(repository);
    mkdirSync(dirname(dir), { recursive: true });
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  }

  /**
   * Commits `files` (path -> content) on `main` of `repository` as `author`, as a push would, and returns the new
   * commit's id. Files not named stay as they were.
   */
  commit(repository: string, files: Record<string, string>, message: string, author: GitCommitAuthor): string {
    this.create(repository);
    const gitDir = this.#dir(repository);
    const work = mkdtempSync(join(tmpdir(), 'keyledger-sandbox-commit-'));
    try {
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(work, path)), { recursive: true });
        writeFileSync(join(work, path), content);
      }
      const env = {
        ...process.env,
        GIT_DIR: gitDir,
        GIT_WORK_TREE: work,
        GIT_INDEX_FILE: join(gitDir, 'sandbox-index'),
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_COMMITTER_NAME: author.name,
        GIT_COMMITTER_EMAIL: author.email,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
      };
      execFileSync('git', ['add', '--', ...Object.keys(files)], { env });
      execFileSync('git', ['commit', '--quiet', '--no-verify', '-m', message], { env });
      return execFileSync('git', ['rev-parse', 'HEAD'], { env, encoding: 'utf8' }).trim();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /**
   * Answers a smart-HTTP request for an existing repository through `git http-backend`. With `pusher` (who the
   * caller authenticated as), `git http-backend` also accepts pushes: it enables receive-pack for a REMOTE_USER.
   */
  serve(request: SandboxRequest, path: GitHttpPath, options: { pusher?: string } = {}): Promise<SandboxAnswer> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: this.root,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      PATH_INFO: `/${path.repository}.git/${path.service}`,
      QUERY_STRING: request.query.toString(),
      REQUEST_METHOD: request.method,
      CONTENT_TYPE: request.headers['content-type'] ?? '',
      CONTENT_LENGTH: String(request.body.length),
      REMOTE_ADDR: request.remoteAddress,
      ...(options.pusher ? { REMOTE_USER: options.pusher } : {}),
      ...(request.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: request.headers['content-encoding'] } : {}),
      ...(request.headers['git-protocol'] ? { GIT_PROTOCOL: String(request.headers['git-protocol']) } : {}),
    };
    return new Promise((resolveAnswer) => {
      const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
      });
      child.on('error', (error) => resolveAnswer({ status: 500, body: `git http-backend: ${error.message}` }));
      child.on('close', (code) => {
        const output = Buffer.concat(chunks);
        if (code !== 0 && output.length === 0) {
          resolveAnswer({ status: 500, body: `git http-backend failed: ${stderr.trim()}` });
          return;
        }
        resolveAnswer(parseCgiAnswer(output));
      });
      child.stdin.on('error', () => {});
      child.stdin.end(request.body);
    });
  }

  /** Removes every repository (the sandbox's close). */
  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
