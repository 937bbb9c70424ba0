// `keyledger scan org` end to end through the CLI: a directory of bare repositories, the tip scan, the history
// scan with its state file, JSON output, and the exit codes (1 with findings, 0 clean).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../runtime/clock.js';
import { BUILTIN_RULE_FIXTURES } from '../../scan/rules/builtin-rules.js';
import { ScratchGitRepo } from '../../scan/sources/scratch-git-repo.js';
import type { CliContext } from '../cli-context.js';
import { main } from '../main.js';

const cleanup: Array<() => void> = [];
afterAll(() => {
  for (const clean of cleanup) clean();
});

function run(cwd: string): CliContext & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
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
    cwd,
    env: { ...process.env, KEYLEDGER_SCAN_CONFIG: '', GITLEAKS_CONFIG: '' },
    clock: fixedClock('2026-12-07T00:00:00Z'),
    color: false,
    exitCode: 0,
    out: () => out,
    err: () => err,
  };
}

const XATA = BUILTIN_RULE_FIXTURES.find((fixture) => fixture.ruleId === 'xata-api-key')?.positives[0]?.secret as string;

describe('keyledger scan org', () => {
  it('scans a directory of repositories, keeps state with --history, and prints JSON without secrets', async () => {
    const org = mkdtempSync(join(tmpdir(), 'kl-cli-org-'));
    const repo = new ScratchGitRepo('kl-cli-org-repo-');
    cleanup.push(
      () => rmSync(org, { recursive: true, force: true }),
      () => repo.remove(),
    );
    repo.write('.env', `XATA_API_KEY=${XATA}\n`).commit('settings', { name: 'Eve', email: 'eve@acme.test' });
    repo.git('clone', '--bare', '--quiet', repo.dir, join(org, 'repos', 'data.git'));

    const tip = run(org);
    expect(await main(['node', 'keyledger', 'scan', 'org', 'dir:repos'], tip)).toBe(1);
    expect(tip.out()).toContain('data: xata-api-key in .env:1 by eve@acme.test');
    expect(tip.out()).toContain('1 of 1 repositories scanned, 1 findings');
    expect(existsSync(join(org, '.keyledger-scan-org.json'))).toBe(false);

    const history = run(org);
    expect(
      await main(['node', 'keyledger', 'scan', 'org', 'repos', '--history', '--json', '-r', 'org.json'], history),
    ).toBe(1);
    expect(readFileSync(join(org, 'org.json'), 'utf8')).toBe(history.out());
    const report = JSON.parse(history.out()) as {
      repositories: Array<{ name: string; head: string; error: string | null }>;
      findings: Array<{ Repository: string; RuleID: string; Email: string; Secret: string }>;
    };
    expect(report.repositories).toMatchObject([{ name: 'data', error: null }]);
    expect(report.findings).toMatchObject([{ Repository: 'data', RuleID: 'xata-api-key', Email: 'eve@acme.test' }]);
    expect(history.out()).not.toContain(XATA);
    const state = JSON.parse(readFileSync(join(org, '.keyledger-scan-org.json'), 'utf8'));
    expect(state.repositories.data.lastCommit).toBe(report.repositories[0]?.head);

    // Nothing new since the saved commit: a clean run.
    const again = run(org);
    expect(await main(['node', 'keyledger', 'scan', 'org', 'repos', '--history'], again)).toBe(0);
    expect(again.out()).toContain('1 of 1 repositories scanned, 0 findings');
  });

  it('refuses a bad --concurrency and a missing directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kl-cli-org-bad-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const bad = run(dir);
    expect(await main(['node', 'keyledger', 'scan', 'org', 'dir:.', '--concurrency', '0', '--json'], bad)).toBe(2);
    expect(bad.out()).toContain('--concurrency');
    const missing = run(dir);
    expect(await main(['node', 'keyledger', 'scan', 'org', 'dir:nope', '--json'], missing)).toBe(2);
    expect(missing.out()).toContain('E_SCAN_ORG_SOURCE');
    // A repository host's owner needs the host's options (base URL, token): a usage error without a providers file.
    const hosted = run(dir);
    hosted.env.KEYLEDGER_PROVIDERS_FILE = '';
    expect(await main(['node', 'keyledger', 'scan', 'org', 'github:acme', '--json'], hosted)).toBe(2);
    expect(hosted.out()).toContain('--providers FILE or KEYLEDGER_PROVIDERS_FILE');
  });
});
