// The sandboxes' git hosting: CGI answers parsed as git http-backend writes them, the credentials git sends, and a
// real `git clone` over HTTP from the GitHub sandbox — refused without a valid token (401), 404 for a repository
// out of reach, and, cloned with the token in git's environment (scan/org/org-scanner.ts), nothing of the token in
// the clone's files or git's output.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitEnvironment } from '../scan/org/org-scanner.js';
import { SecretValue } from '../secrets/secret-value.js';
import { gitHttpPath, gitHttpToken, parseCgiAnswer } from './git-http-hosting.js';
import { GithubSandbox } from './providers/github/github-sandbox.js';
import type { SandboxRequest } from './sandbox-server.js';
import { SandboxServer } from './sandbox-server.js';

describe('git http hosting helpers', () => {
  it('parses CGI answers with CRLF or LF headers and a Status line', () => {
    const ok = parseCgiAnswer(Buffer.from('Content-Type: application/x-git\r\nExpires: never\r\n\r\n0000PACK'));
    expect(ok).toMatchObject({ status: 200, headers: { 'content-type': 'application/x-git', expires: 'never' } });
    expect((ok.body as Buffer).toString()).toBe('0000PACK');
    const missing = parseCgiAnswer(
      Buffer.from('Status: 404 Not Found\nContent-Type: text/plain\n\nRepository not found'),
    );
    expect(missing.status).toBe(404);
    expect((missing.body as Buffer).toString()).toBe('Repository not found');
    expect(parseCgiAnswer(Buffer.from('no headers at all')).status).toBe(502);
  });

  it('reads the repository path and the token of Basic or Bearer credentials', () => {
    expect(gitHttpPath('/acme/api.git/info/refs')).toEqual({ repository: 'acme/api', service: 'info/refs' });
    expect(gitHttpPath('/acme/backend/api.git/git-upload-pack')).toEqual({
      repository: 'acme/backend/api',
      service: 'git-upload-pack',
    });
    expect(gitHttpPath('/acme/api.git/git-receive-pack')).toBeUndefined();
    const request = (authorization?: string) =>
      ({ headers: authorization ? { authorization } : {} }) as unknown as SandboxRequest;
    const basic = `Basic ${Buffer.from('x-access-token:ghs_abc').toString('base64')}`;
    expect(gitHttpToken(request(basic))).toEqual({ username: 'x-access-token', token: 'ghs_abc' });
    expect(gitHttpToken(request('Bearer glpat-xyz'))).toEqual({ token: 'glpat-xyz' });
    expect(gitHttpToken(request())).toBeUndefined();
  });
});

describe('git clone from the GitHub sandbox over smart HTTP', () => {
  const sandbox = new GithubSandbox({ org: 'acme', repositories: [] });
  const server = new SandboxServer(sandbox);
  const work = mkdtempSync(join(tmpdir(), 'kl-git-http-'));
  let url = '';
  let head = '';
  beforeAll(async () => {
    url = await server.start();
    head = sandbox.pushCommit('api', { 'README.md': '# api\n' }, 'start', { name: 'Bob', email: 'bob@acme.test' });
    sandbox.pushCommit('vault', { 'README.md': '# vault\n' }, 'start', { name: 'Bob', email: 'bob@acme.test' });
    sandbox.restrictGit('vault');
  });
  afterAll(async () => {
    await server.stop();
    sandbox.removeGitRepositories();
    rmSync(work, { recursive: true, force: true });
  });

  const clone = (repository: string, target: string, token?: string) => {
    const cloneUrl = `${url}/acme/${repository}.git`;
    const env = gitEnvironment(
      {
        name: repository,
        cloneUrl,
        ...(token ? { credentials: { username: 'x-access-token', password: new SecretValue(token) } } : {}),
      },
      { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    );
    // Asynchronously: the sandbox answers from this same process.
    return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'git',
        ['clone', '--bare', '--depth', '1', cloneUrl, join(work, target)],
        { env },
        (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  };

  it('clones with the token in git environment, and the token is in no file of the clone nor in its output', async () => {
    const token = sandbox.installationToken;
    const result = await clone('api', 'api.git', token);
    expect(result.status).toBe(0);
    expect(execFileSync('git', ['rev-parse', 'HEAD'], { cwd: join(work, 'api.git'), encoding: 'utf8' }).trim()).toBe(
      head,
    );
    const config = readFileSync(join(work, 'api.git', 'config'), 'utf8');
    expect(config).toContain(`${url}/acme/api.git`);
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    for (const text of [config, result.stdout, result.stderr]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(basic);
    }
  });

  it('refuses a clone without a valid token (401) and hides a repository out of reach (404)', async () => {
    const anonymous = await clone('api', 'anonymous.git');
    expect(anonymous.status).not.toBe(0);
    expect(anonymous.stderr).toMatch(/could not read Username|Authentication failed/);
    const wrong = await clone('api', 'wrong.git', 'ghs_not_a_token');
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/could not read Username|Authentication failed/);
    expect(wrong.stderr).not.toContain('ghs_not_a_token');
    const vault = await clone('vault', 'vault.git', sandbox.installationToken);
    expect(vault.status).not.toBe(0);
    expect(vault.stderr).toMatch(/not found|404/i);
  });
});
