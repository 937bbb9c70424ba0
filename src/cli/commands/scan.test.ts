import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRegistry, seedExampleWith } from '../../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../../runtime/clock.js';
import { fakeChars, githubToken } from '../../scan/rules/canary-secrets.js';
import { ScratchGitRepo } from '../../scan/sources/scratch-git-repo.js';
import { fingerprintSecret } from '../../secrets/secret-fingerprint.js';
import type { CliContext } from '../cli-context.js';
import { main } from '../main.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-scan-cli-'));
  dirs.push(dir);
  return dir;
}

function context(cwd: string, stdin?: string): CliContext & { out: () => string; err: () => string } {
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
    clock: fixedClock('2026-11-23T00:00:00Z'),
    color: false,
    exitCode: 0,
    ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}),
    out: () => out,
    err: () => err,
  };
}

const token = githubToken('ghp', 301);
const stripe = ['sk_live_', fakeChars(302, 28)].join('');

describe('keyledger scan', () => {
  it('scan dir: exit 1 with a redacted table, JSON with gitleaks fields, exit 0 when clean', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'config.js'), `const a = 1;\nconst token = "${token}";\n`);
    writeFileSync(join(dir, 'clean.txt'), 'nothing here\n');

    const human = context(dir);
    expect(await main(['node', 'keyledger', 'scan', 'dir', '.'], human)).toBe(1);
    expect(human.out()).toContain('github-pat');
    expect(human.out()).toContain('src/config.js:2:');
    expect(human.out()).not.toContain(token);
    expect(human.out()).toContain('1 leak found');

    const json = context(dir);
    expect(await main(['node', 'keyledger', 'scan', 'dir', '.', '--json'], json)).toBe(1);
    const [record] = JSON.parse(json.out());
    expect(Object.keys(record)).toEqual([
      'RuleID',
      'Description',
      'StartLine',
      'EndLine',
      'StartColumn',
      'EndColumn',
      'Match',
      'Secret',
      'File',
      'SymlinkFile',
      'Commit',
      'Entropy',
      'Author',
      'Email',
      'Date',
      'Message',
      'Tags',
      'Fingerprint',
    ]);
    expect(record).toMatchObject({
      RuleID: 'github-pat',
      File: 'src/config.js',
      StartLine: 2,
      Secret: token,
      Fingerprint: 'src/config.js:github-pat:2',
    });

    const redacted = context(dir);
    await main(['node', 'keyledger', 'scan', 'dir', '.', '--json', '--redact'], redacted);
    expect(redacted.out()).not.toContain(token);
    expect(JSON.parse(redacted.out())[0].Secret).toBe('REDACTED');

    const clean = context(dir);
    expect(await main(['node', 'keyledger', 'scan', 'dir', 'clean.txt'], clean)).toBe(0);
    expect(clean.out()).toContain('no leaks found');
  });

  it('honours .gitleaksignore, inline allow comments, .gitignore and baselines', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.env'), `TOKEN=${token}\n`);
    writeFileSync(join(dir, 'b.env'), `STRIPE=${stripe} # gitleaks:allow\n`);
    writeFileSync(join(dir, '.gitignore'), 'ignored/\n');
    mkdirSync(join(dir, 'ignored'));
    writeFileSync(join(dir, 'ignored', 'c.env'), `STRIPE=${stripe}\n`);

    const first = context(dir);
    await main(['node', 'keyledger', 'scan', 'dir', '.', '--json'], first);
    expect(JSON.parse(first.out()).map((r: { File: string }) => r.File)).toEqual(['a.env']);

    const noGitignore = context(dir);
    await main(
      ['node', 'keyledger', 'scan', 'dir', '.', '--json', '--no-gitignore', '--ignore-gitleaks-allow'],
      noGitignore,
    );
    expect(
      JSON.parse(noGitignore.out())
        .map((r: { File: string }) => r.File)
        .sort(),
    ).toEqual(['a.env', 'b.env', 'ignored/c.env']);

    const baselineRun = context(dir);
    expect(
      await main(['node', 'keyledger', 'scan', 'dir', '.', '--write-baseline', 'baseline.json'], baselineRun),
    ).toBe(0);
    expect(readFileSync(join(dir, 'baseline.json'), 'utf8')).not.toContain(token);
    writeFileSync(join(dir, 'new.env'), `STRIPE=${stripe}\n`);
    const withBaseline = context(dir);
    expect(
      await main(['node', 'keyledger', 'scan', 'dir', '.', '--json', '--baseline', 'baseline.json'], withBaseline),
    ).toBe(1);
    expect(JSON.parse(withBaseline.out()).map((r: { File: string }) => r.File)).toEqual(['new.env']);

    writeFileSync(join(dir, '.gitleaksignore'), '# accepted\nnew.env:stripe-access-token:1\n');
    const ignored = context(dir);
    expect(await main(['node', 'keyledger', 'scan', 'dir', '.', '--baseline', 'baseline.json'], ignored)).toBe(0);
    expect(ignored.out()).toContain('1 ignored by fingerprint');
  });

  it('writes SARIF and CSV reports without the secret', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.env'), `TOKEN=${token}\n`);
    const sarif = context(dir);
    expect(await main(['node', 'keyledger', 'scan', 'dir', '.', '-f', 'sarif', '-r', 'out.sarif'], sarif)).toBe(1);
    const log = JSON.parse(readFileSync(join(dir, 'out.sarif'), 'utf8'));
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0].results[0]).toMatchObject({ ruleId: 'github-pat' });
    expect(log.runs[0].results[0].locations[0].physicalLocation.region.startLine).toBe(1);
    expect(JSON.stringify(log)).not.toContain(token);
    const csv = context(dir);
    await main(['node', 'keyledger', 'scan', 'dir', '.', '-f', 'csv', '--redact'], csv);
    expect(csv.out().split('\n')[0]).toMatch(/^RuleID,Commit,File,SymlinkFile,Secret,Match,StartLine/);
    expect(csv.out()).not.toContain(token);
  });

  it('scan git and scan staged report commit metadata; scan stdin reads standard input', async () => {
    const repo = new ScratchGitRepo();
    dirs.push(repo.dir);
    repo.write('a.txt', `token=${token}\n`).commit('leak it', { name: 'Linus', email: 'linus@example.com' });
    const git = context(repo.dir);
    git.env = { ...git.env, ...repo.env };
    expect(await main(['node', 'keyledger', 'scan', 'git', '.', '--json'], git)).toBe(1);
    expect(JSON.parse(git.out())[0]).toMatchObject({
      Author: 'Linus',
      Email: 'linus@example.com',
      Message: 'leak it',
      File: 'a.txt',
    });

    repo.write('b.txt', `stripe=${stripe}\n`);
    repo.git('add', 'b.txt');
    const staged = context(repo.dir);
    staged.env = { ...staged.env, ...repo.env };
    expect(await main(['node', 'keyledger', 'scan', 'staged', '--json'], staged)).toBe(1);
    expect(JSON.parse(staged.out()).map((r: { File: string }) => r.File)).toEqual(['b.txt']);

    const stdin = context(repo.dir, `line\nSTRIPE=${stripe}\n`);
    expect(await main(['node', 'keyledger', 'scan', 'stdin', '--json'], stdin)).toBe(1);
    expect(JSON.parse(stdin.out())[0]).toMatchObject({ RuleID: 'stripe-access-token', StartLine: 2 });
  });

  it('scan dir --registry names the key, owner team and owner of a leaked secret the registry fingerprints', async () => {
    const fingerprintKey = Buffer.alloc(32, 7);
    const registry = await makeRegistry({
      'keys/payments-stripe-live.yaml': `${seedExampleWith('payments-stripe-live-001')}fingerprint: ${fingerprintSecret(stripe, { version: 'v1', key: fingerprintKey })}\n`,
      // An entry for another key: it must not be matched to the leak.
      'keys/billing-github.yaml': `${seedExampleWith('billing-github-001', [['owner_team: payments', 'owner_team: billing']])}fingerprint: ${fingerprintSecret(token, { version: 'v1', key: fingerprintKey })}\n`,
    });
    dirs.push(registry);
    const dir = tempDir();
    writeFileSync(join(dir, 'deploy.env'), `STRIPE_SECRET_KEY=${stripe}\n`);
    const withKey = (ctx: ReturnType<typeof context>) => {
      ctx.env = { ...ctx.env, KEYLEDGER_FINGERPRINT_KEY: fingerprintKey.toString('base64') };
      return ctx;
    };

    const json = withKey(context(dir));
    expect(await main(['node', 'keyledger', 'scan', 'dir', '.', '--registry', registry, '--json'], json)).toBe(1);
    const [record] = JSON.parse(json.out());
    expect(record).toMatchObject({
      RuleID: 'stripe-access-token',
      File: 'deploy.env',
      KeyID: 'payments-stripe-live-001',
      OwnerTeam: 'payments',
      Owner: 'alice@example.com',
    });

    const table = withKey(context(dir));
    expect(await main(['node', 'keyledger', 'scan', 'dir', '.', '--registry', registry], table)).toBe(1);
    expect(table.out()).toContain('payments-stripe-live-001  owned by payments / alice@example.com');
    expect(table.out()).toContain('1 attributed to registry keys');
    expect(table.out()).not.toContain(stripe);

    // Without the organisation's fingerprint key the scan cannot attribute, and says so rather than guessing.
    const noKey = context(dir);
    noKey.env = { ...noKey.env, KEYLEDGER_FINGERPRINT_KEY: '', KEYLEDGER_DATA_DIR: join(dir, 'no-data-dir') };
    expect(await main(['node', 'keyledger', 'scan', 'dir', '.', '--registry', registry], noKey)).toBe(2);
  });

  it('finds a base64-encoded secret through the command line, located at the encoded run', async () => {
    const dir = tempDir();
    const encoded = Buffer.from(`GITHUB_TOKEN=${token}`).toString('base64');
    writeFileSync(join(dir, 'secret.yaml'), `apiVersion: v1\nkind: Secret\ndata:\n  env: ${encoded}\n`);
    const json = context(dir);
    expect(await main(['node', 'keyledger', 'scan', 'dir', '.', '--json'], json)).toBe(1);
    // The manifest itself is also a kubernetes-secret-yaml finding (a Secret with inline data), as in gitleaks.
    const record = (JSON.parse(json.out()) as Array<{ RuleID: string; Tags: string[] }>).find(
      (r) => r.RuleID === 'github-pat',
    );
    expect(record).toMatchObject({
      RuleID: 'github-pat',
      File: 'secret.yaml',
      StartLine: 4,
      StartColumn: 8,
      Secret: token,
    });
    expect(record?.Tags).toEqual(expect.arrayContaining(['decoded:base64', 'decode-depth:1']));

    const noDecoding = context(dir);
    await main(['node', 'keyledger', 'scan', 'dir', '.', '--max-decode-depth', '0', '--json'], noDecoding);
    const plain = JSON.parse(noDecoding.out()) as Array<{ RuleID: string }>;
    expect(plain.map((r) => r.RuleID)).toEqual(['kubernetes-secret-yaml']);
  });

  it('exits 2 on a bad config and on bad flags', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.gitleaks.toml'), '[[rules]]\nid = "bad"\nregex = "(?<=x)y"\n');
    const bad = context(dir);
    expect(await main(['node', 'keyledger', 'scan', 'dir', '.'], bad)).toBe(2);
    expect(bad.err()).toContain('not a valid RE2 pattern');
    const flag = context(dir);
    expect(
      await main(['node', 'keyledger', 'scan', 'dir', '.', '--exit-code', 'x', '--config', 'none.toml'], flag),
    ).toBe(2);
    const reveal = context(dir);
    expect(
      await main(['node', 'keyledger', 'scan', 'stdin', '--reveal'], { ...reveal, stdin: Readable.from(['x']) }),
    ).toBe(2);
  });
});
