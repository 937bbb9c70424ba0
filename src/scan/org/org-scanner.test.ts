// Organisation scans over real git repositories (cloned through git, file:// URLs and paths): findings attributed
// to repository and author, tip-only scans without history, incremental history scans from the saved state, a
// failing repository reported and retried next time without stopping the others, and nothing left behind.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILTIN_RULE_FIXTURES } from '../rules/builtin-rules.js';
import { ScratchGitRepo } from '../sources/scratch-git-repo.js';
import { emptyOrgScanState, loadOrgScanState, saveOrgScanState } from './org-scan-state.js';
import { scanOrganisation, withoutCredentials } from './org-scanner.js';
import { listDirectoryRepositories, listUrlFileRepositories, repositoryNameOf } from './repository-source.js';

const secretOf = (ruleId: string) =>
  BUILTIN_RULE_FIXTURES.find((fixture) => fixture.ruleId === ruleId)?.positives[0]?.secret as string;
const NEON = secretOf('neon-api-key');
const AXIOM = secretOf('axiom-api-token');
const PANGEA = secretOf('pangea-token');

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const clean of cleanup.splice(0)) clean();
});

function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An organisation of two repositories in one directory (as a mirror would hold them). */
function organisation() {
  const org = scratchDir('kl-org-');
  const api = new ScratchGitRepo('kl-org-api-');
  const web = new ScratchGitRepo('kl-org-web-');
  cleanup.push(
    () => api.remove(),
    () => web.remove(),
  );
  api.write('README.md', '# api\n').commit('start');
  api.write('deploy.env', `NEON_API_KEY=${NEON}\n`).commit('deploy settings', { name: 'Bo', email: 'bo@acme.test' });
  api.write('deploy.env', `NEON_API_KEY=\${NEON_API_KEY}\n`).commit('use the environment');
  web
    .write('src/app.ts', `export const axiom = '${AXIOM}';\n`)
    .commit('logging', { name: 'Cy', email: 'cy@acme.test' });
  // Bare clones in the organisation directory, named as a hosting service names them.
  api.git('clone', '--bare', '--quiet', api.dir, join(org, 'api.git'));
  web.git('clone', '--bare', '--quiet', web.dir, join(org, 'web.git'));
  return { org, api, web };
}

const scanDefaults = (cwd: string) => ({ cwd, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' }, threads: 1 });

describe('scan org', () => {
  it('lists the repositories of a directory and of a URL file', async () => {
    const { org } = organisation();
    expect((await listDirectoryRepositories(org)).map((repository) => repository.name)).toEqual(['api', 'web']);
    const list = join(scratchDir('kl-org-list-'), 'repos.txt');
    writeFileSync(list, `# acme\nhttps://git.acme.test/acme/api.git\nbilling https://git.acme.test/acme/api.git\n\n`);
    expect(await listUrlFileRepositories(list)).toEqual([
      { name: 'acme/api', cloneUrl: 'https://git.acme.test/acme/api.git' },
      { name: 'billing', cloneUrl: 'https://git.acme.test/acme/api.git' },
    ]);
    expect(repositoryNameOf('git@github.com:acme/web.git')).toBe('acme/web');
    writeFileSync(list, 'https://a.test/x/api.git\nhttps://b.test/x/api.git\n');
    await expect(listUrlFileRepositories(list)).rejects.toMatchObject({ code: 'E_SCAN_ORG_SOURCE' });
  });

  it('scans the tip of each repository without history, attributing findings to repository', async () => {
    const { org } = organisation();
    const work = scratchDir('kl-org-work-');
    const report = await scanOrganisation({
      repositories: await listDirectoryRepositories(org),
      history: false,
      state: emptyOrgScanState(),
      scan: scanDefaults(org),
      workDir: work,
    });
    // The api's key was removed from its tip: only web's is found.
    expect(report.findings.map((finding) => [finding.repository, finding.ruleId])).toEqual([
      ['web', 'axiom-api-token'],
    ]);
    expect(report.repositories.map((repository) => repository.error)).toEqual([undefined, undefined]);
    expect(report.state.repositories).toEqual({});
    expect(readdirSync(work)).toEqual([]);
  });

  it('scans history once, then only what is new, from the saved state', async () => {
    const { org, web } = organisation();
    const statePath = join(scratchDir('kl-org-state-'), 'state.json');
    const first = await scanOrganisation({
      repositories: await listDirectoryRepositories(org),
      history: true,
      state: await loadOrgScanState(statePath),
      scan: scanDefaults(org),
      now: new Date('2026-12-07T12:00:00Z'),
    });
    expect(first.findings.map((finding) => [finding.repository, finding.ruleId, finding.commit?.email]).sort()).toEqual(
      [
        ['api', 'neon-api-key', 'bo@acme.test'],
        ['web', 'axiom-api-token', 'cy@acme.test'],
      ],
    );
    await saveOrgScanState(statePath, first.state);
    const saved = await loadOrgScanState(statePath);
    expect(Object.keys(saved.repositories)).toEqual(['api', 'web']);

    // A new commit in web, pushed to the organisation's copy.
    web
      .write('src/guard.ts', `export const pangea = '${PANGEA}';\n`)
      .commit('guard', { name: 'Di', email: 'di@acme.test' });
    web.git('push', '--quiet', join(org, 'web.git'), 'main');
    const second = await scanOrganisation({
      repositories: await listDirectoryRepositories(org),
      history: true,
      state: saved,
      scan: scanDefaults(org),
    });
    expect(second.findings.map((finding) => [finding.repository, finding.ruleId, finding.commit?.email])).toEqual([
      ['web', 'pangea-token', 'di@acme.test'],
    ]);
    expect(second.repositories.find((repository) => repository.name === 'web')?.since).toBe(
      saved.repositories.web?.lastCommit,
    );
    expect(second.repositories.find((repository) => repository.name === 'api')?.findings).toEqual([]);
  });

  it('reports a repository it cannot fetch, keeps its state entry, and scans the others', async () => {
    const { org } = organisation();
    const work = scratchDir('kl-org-work-');
    const state = emptyOrgScanState();
    state.repositories.gone = { lastCommit: 'a'.repeat(40), scannedAt: '2026-12-01T00:00:00.000Z' };
    const report = await scanOrganisation({
      repositories: [
        { name: 'gone', cloneUrl: 'https://user:s3cr3t-token@127.0.0.1:1/acme/gone.git' },
        ...(await listDirectoryRepositories(org)),
      ],
      history: true,
      concurrency: 3,
      state,
      scan: scanDefaults(org),
      workDir: work,
    });
    const gone = report.repositories.find((repository) => repository.name === 'gone');
    expect(gone?.error).toMatch(/git clone failed/);
    expect(gone?.error).not.toContain('s3cr3t-token');
    expect(report.state.repositories.gone).toEqual(state.repositories.gone);
    expect(report.findings.map((finding) => finding.repository).sort()).toEqual(['api', 'web']);
    expect(readdirSync(work)).toEqual([]);
    expect(existsSync(join(work, 'keyledger-org-scan-'))).toBe(false);
  });

  it('never prints credentials carried in a clone URL', () => {
    expect(withoutCredentials("fatal: unable to access 'https://x-access-token:ghs_abc@git.acme.test/a.git/'")).toBe(
      "fatal: unable to access 'https://***@git.acme.test/a.git/'",
    );
  });
});
