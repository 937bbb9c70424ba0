// `scan org github:ORG` / `gitlab:GROUP` against the GitHub and GitLab sandboxes serving real git repositories
// through `git http-backend`: list through the provider's repository host (providers/repository-host-table.ts),
// clone over HTTP with the token in git's environment, scan, attribute to the key's owner; a second run scans
// nothing new, a pushed commit is scanned on the third; a refused repository is reported and the others go on; no
// token in any output, state file or error. The CLI path (providers file, JSON) is run once per provider too.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { createRepositoryHost } from '../../providers/repository-host-table.js';
import { fixedClock, systemClock } from '../../runtime/clock.js';
import { GithubSandbox } from '../../sandbox/providers/github/github-sandbox.js';
import { GitlabSandbox } from '../../sandbox/providers/gitlab/gitlab-sandbox.js';
import { SandboxServer } from '../../sandbox/sandbox-server.js';
import { fingerprintSecret } from '../../secrets/secret-fingerprint.js';
import { FingerprintOwnershipIndex } from '../ownership/ownership-index.js';
import { BUILTIN_RULE_FIXTURES } from '../rules/builtin-rules.js';
import { loadOrgScanState, saveOrgScanState } from './org-scan-state.js';
import { type OrgScanReport, scanOrganisation } from './org-scanner.js';
import { listHostedRepositories } from './repository-source.js';

const cleanup: Array<() => void | Promise<void>> = [];
afterAll(async () => {
  for (const clean of cleanup.reverse()) await clean();
});

const CANARY = BUILTIN_RULE_FIXTURES.find((fixture) => fixture.ruleId === 'xata-api-key')?.positives[0]
  ?.secret as string;
const fingerprintKey = { version: 'v1', key: randomBytes(32) };
const ownership = new FingerprintOwnershipIndex(
  [{ fingerprint: fingerprintSecret(CANARY, fingerprintKey), keyId: 'xata-prod', owner: 'eve@acme.test' }],
  fingerprintKey,
);
const EVE = { name: 'Eve', email: 'eve@acme.test' };
const BOB = { name: 'Bob', email: 'bob@acme.test' };

interface Hosted {
  name: 'github' | 'gitlab';
  owner: string;
  token: string;
  /** Full names of the clean, leaking and refused repositories. */
  clean: string;
  leaking: string;
  refused: string;
  refusal: RegExp;
  push(repository: string, files: Record<string, string>, author: typeof EVE): void;
  options: Record<string, unknown>;
}

async function githubHost(): Promise<Hosted> {
  const sandbox = new GithubSandbox({ org: 'acme', repositories: [] });
  const server = new SandboxServer(sandbox);
  const url = await server.start();
  cleanup.push(
    () => server.stop(),
    () => sandbox.removeGitRepositories(),
  );
  sandbox.pushCommit('api', { 'README.md': '# api\n' }, 'start', BOB);
  sandbox.pushCommit('billing', { 'config/.env': `XATA_API_KEY=${CANARY}\n` }, 'settings', EVE);
  sandbox.pushCommit('vault', { 'README.md': '# vault\n' }, 'start', BOB);
  sandbox.restrictGit('vault');
  return {
    name: 'github',
    owner: 'acme',
    token: sandbox.installationToken,
    clean: 'acme/api',
    leaking: 'acme/billing',
    refused: 'acme/vault',
    refusal: /exit 128\).*repository .*not found/i,
    push: (repository, files, author) => sandbox.pushCommit(repository.slice('acme/'.length), files, 'more', author),
    options: { baseUrl: url, token: sandbox.installationToken, timeoutMs: 5000, rateLimit: 'off' },
  };
}

async function gitlabHost(): Promise<Hosted> {
  const sandbox = new GitlabSandbox();
  const server = new SandboxServer(sandbox);
  const url = await server.start();
  cleanup.push(
    () => server.stop(),
    () => sandbox.removeGitRepositories(),
  );
  sandbox.pushCommit('acme/api', { 'README.md': '# api\n' }, 'start', BOB);
  sandbox.pushCommit('acme/backend/billing', { 'config/.env': `XATA_API_KEY=${CANARY}\n` }, 'settings', EVE);
  sandbox.pushCommit('acme/backend/vault', { 'README.md': '# vault\n' }, 'start', BOB);
  sandbox.pushCommit('other/tools', { 'README.md': '# tools\n' }, 'start', BOB);
  sandbox.restrictGit('acme/backend/vault');
  return {
    name: 'gitlab',
    owner: 'acme',
    token: sandbox.adminToken,
    clean: 'acme/api',
    leaking: 'acme/backend/billing',
    refused: 'acme/backend/vault',
    refusal: /exit 128\): the host refused the credentials \(HTTP 401/,
    push: (repository, files, author) => sandbox.pushCommit(repository, files, 'more', author),
    options: { baseUrl: url, token: sandbox.adminToken, timeoutMs: 5000, rateLimit: 'off' },
  };
}

function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function expectNoToken(token: string, ...texts: string[]): void {
  for (const text of texts) {
    expect(text).not.toContain(token);
    expect(text).not.toContain(Buffer.from(token).toString('base64').slice(0, 20));
    expect(text).not.toContain(CANARY);
  }
}

describe.each([
  ['github', githubHost],
  ['gitlab', gitlabHost],
] as const)('scan org %s:OWNER against the sandbox over git http-backend', (_name, start) => {
  it('lists, clones, scans and attributes; then scans only what is new; a refused repository does not stop the rest', async () => {
    const hosted = await start();
    const work = scratch('kl-hosted-org-');
    const statePath = join(work, 'state.json');
    const repositoryHost = await createRepositoryHost(hosted.name, hosted.options, { clock: systemClock });
    cleanup.push(async () => repositoryHost.close?.());
    const repositories = await listHostedRepositories(repositoryHost, hosted.owner);
    expect(repositories.map((repository) => repository.name)).toEqual(
      [hosted.clean, hosted.leaking, hosted.refused].sort(),
    );
    for (const repository of repositories) expect(repository.cloneUrl).not.toContain(hosted.token);

    const run = async (): Promise<OrgScanReport> => {
      const report = await scanOrganisation({
        repositories,
        history: true,
        concurrency: 2,
        state: await loadOrgScanState(statePath),
        scan: { cwd: work, env: { ...process.env, KEYLEDGER_SCAN_CONFIG: '', GITLEAKS_CONFIG: '' }, ownership },
        workDir: work,
      });
      await saveOrgScanState(statePath, report.state);
      expectNoToken(hosted.token, JSON.stringify(report), readFileSync(statePath, 'utf8'));
      return report;
    };
    const byName = (report: OrgScanReport, name: string) => report.repositories.find((r) => r.name === name);

    const first = await run();
    expect(first.findings).toHaveLength(1);
    expect(first.findings[0]).toMatchObject({
      repository: hosted.leaking,
      ruleId: 'xata-api-key',
      commit: { email: EVE.email },
      owner: { keyId: 'xata-prod', owner: 'eve@acme.test' },
    });
    expect(byName(first, hosted.clean)).toMatchObject({ findings: [] });
    expect(byName(first, hosted.clean)?.error).toBeUndefined();
    expect(byName(first, hosted.refused)?.error).toMatch(hosted.refusal);
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { repositories: Record<string, unknown> };
    expect(Object.keys(state.repositories).sort()).toEqual([hosted.clean, hosted.leaking].sort());

    // Nothing pushed since: every repository is at its saved commit.
    const second = await run();
    expect(second.findings).toEqual([]);
    for (const name of [hosted.clean, hosted.leaking]) {
      const result = byName(second, name);
      expect(result?.since).toBe(result?.head);
    }

    // A new commit with a leak on the clean repository: the third run scans it, and only it.
    hosted.push(hosted.clean, { 'deploy/values.yaml': `xata: ${CANARY}\n` }, BOB);
    const third = await run();
    expect(third.findings.map((finding) => [finding.repository, finding.file, finding.commit?.email])).toEqual([
      [hosted.clean, 'deploy/values.yaml', BOB.email],
    ]);
    expect(third.findings[0]?.owner?.keyId).toBe('xata-prod');
    expect(byName(third, hosted.clean)?.since).toBe(byName(second, hosted.clean)?.head);
    // The temporary clones are gone: only the state file is left in the work directory.
    expect(readdirSync(work)).toEqual(['state.json']);
  });

  it('runs through the CLI with the token from the providers file, and prints no token', async () => {
    const hosted = await start();
    const work = scratch('kl-hosted-cli-');
    writeFileSync(join(work, 'providers.json'), JSON.stringify({ [hosted.name]: hosted.options }));
    let out = '';
    let err = '';
    const context = {
      stdout: {
        write: (text: string) => {
          out += text;
        },
      },
      stderr: {
        write: (text: string) => {
          err += text;
        },
      },
      cwd: work,
      env: { ...process.env, KEYLEDGER_SCAN_CONFIG: '', GITLEAKS_CONFIG: '', KEYLEDGER_PROVIDERS_FILE: '' },
      clock: fixedClock('2026-12-07T00:00:00Z'),
      color: false,
      exitCode: 0,
    };
    const code = await main(
      ['node', 'keyledger', 'scan', 'org', `${hosted.name}:${hosted.owner}`, '--providers', 'providers.json'],
      context,
    );
    expect(code).toBe(1);
    expect(out).toContain(`${hosted.leaking}: xata-api-key in config/.env:1 by ${EVE.email}`);
    expect(out).toContain(`2 of 3 repositories scanned, 1 findings; not scanned (retried next run): ${hosted.refused}`);
    expect(err).toContain(`${hosted.refused}: not scanned`);
    expectNoToken(hosted.token, out, err);
  });
});
