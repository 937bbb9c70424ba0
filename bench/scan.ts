// Scanner benchmark (docs/benchmarks.md, "Scanner"). In one run, on one corpus:
//   1. our directory scan (built-in rules, decoding on, worker threads), secretlint 13.0.6 (recommend preset)
//      and ripgrep with our rules' keywords (`rg -i -F -f`), all on the same tree with planted secrets;
//   2. a history scan of a 10,000+ commit repository built with `git fast-import` from the corpus' source text,
//      against `git log -p -U0 --full-history --all --diff-filter=tuxdb` alone on it.
//   3. with --history-repo PATH: a real repository's history (all refs), `git log -p -U0 --full-history --all`
//      against `keyledger scan git --all` in a child process, back to back --runs times, with each one's peak RSS.
//      eslint's history as in docs/benchmarks.md: `git clone --mirror https://github.com/eslint/eslint.git`.
// Usage: npx tsx bench/scan.ts [--corpus DIR] [--commits N] [--skip-secretlint] [--skip-rg-regex] [--dir-only|--history-only]
//        [--from-source] [--history-repo PATH [--runs N]]
// The scanner is measured as it ships, compiled to JavaScript: src/ is transpiled file by file with esbuild into
// a temporary directory first (otherwise every worker thread would compile the TypeScript again through tsx,
// which the CLI never does). --from-source measures src/ through tsx instead.
// The corpus defaults to /tmp/keyledger-scan-corpus/node_modules, installed on first use with
// `npm install --prefix /tmp/keyledger-scan-corpus <PACKAGES below>`.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as BuiltinRulesModule from '../src/scan/rules/builtin-rules.js';
import { BUILTIN_RULE_FIXTURES } from '../src/scan/rules/builtin-rules.js';
import type * as ScannerModule from '../src/scan/scanner.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const CORPUS_PARENT = '/tmp/keyledger-scan-corpus';
const corpus = flag('--corpus') ?? join(CORPUS_PARENT, 'node_modules');
const commits = Number(flag('--commits') ?? 10_500);
const PACKAGES = [
  'typescript',
  'eslint',
  'prettier',
  'webpack',
  'rollup',
  '@babel/core',
  'playwright-core',
  'stripe',
  'openai',
  '@octokit/rest',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-ec2',
  'lodash',
  'moment',
];

/** Transpiles src/ to JavaScript (one file per module, as tsc emits) into a temporary directory, once. */
let compiled: string | undefined;
async function compiledRoot(): Promise<string> {
  if (compiled) return compiled;
  const sourceRoot = fileURLToPath(new URL('../src', import.meta.url));
  const { build } = await import('esbuild');
  const outRoot = mkdtempSync(join(tmpdir(), 'keyledger-scan-bench-build-'));
  const entryPoints: string[] = [];
  const stack = [sourceRoot];
  while (stack.length) {
    const current = stack.pop() as string;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) entryPoints.push(path);
    }
  }
  await build({
    entryPoints,
    outdir: join(outRoot, 'src'),
    outbase: sourceRoot,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
  });
  // Bare imports (re2, ignore...) resolve through the project's node_modules.
  symlinkSync(fileURLToPath(new URL('../node_modules', import.meta.url)), join(outRoot, 'node_modules'));
  process.on('exit', () => rmSync(outRoot, { recursive: true, force: true }));
  compiled = outRoot;
  return outRoot;
}

/** Loads the scanner, compiled (as the CLI ships) unless --from-source. */
async function loadScanner(): Promise<typeof ScannerModule & typeof BuiltinRulesModule> {
  if (args.includes('--from-source')) {
    return { ...(await import('../src/scan/scanner.js')), ...(await import('../src/scan/rules/builtin-rules.js')) };
  }
  const outRoot = await compiledRoot();
  return {
    ...((await import(join(outRoot, 'src/scan/scanner.js'))) as typeof ScannerModule),
    ...((await import(join(outRoot, 'src/scan/rules/builtin-rules.js'))) as typeof BuiltinRulesModule),
  };
}

const { scanDirectory, scanGitHistory, builtinRuleSet } = await loadScanner();

function ensureCorpus(): void {
  if (existsSync(corpus)) return;
  mkdirSync(CORPUS_PARENT, { recursive: true });
  writeFileSync(join(CORPUS_PARENT, 'package.json'), '{"name":"corpus","version":"1.0.0","private":true}\n');
  execFileSync(
    'npm',
    ['install', '--prefix', CORPUS_PARENT, '--no-audit', '--no-fund', '--ignore-scripts', ...PACKAGES],
    {
      stdio: 'inherit',
    },
  );
}

/** Writes every built-in rule's true positives into `<corpus>/zz-planted/` and returns the secrets. */
function plantSecrets(): Set<string> {
  const dir = join(corpus, 'zz-planted');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const secrets = new Set<string>();
  for (const fixture of BUILTIN_RULE_FIXTURES) {
    fixture.positives.forEach((positive, i) => {
      // Path-only rules (a .p12 file) have no secret to count; rules tied to a file type keep its name.
      if (positive.secret === '') return;
      const name = positive.path ? `${fixture.ruleId}-${i}-${basename(positive.path)}` : `${fixture.ruleId}-${i}.txt`;
      writeFileSync(join(dir, name), `// planted for the benchmark\n${positive.text}\n`);
      secrets.add(positive.secret);
    });
  }
  return secrets;
}

function corpusBytes(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const stack = [dir];
  while (stack.length) {
    const current = stack.pop() as string;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (entry.isFile()) {
        bytes += statSync(path).size;
        files += 1;
      }
    }
  }
  return { bytes, files };
}

function timeCommand(
  command: string,
  commandArgs: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): { seconds: number; status: number | null; stdout: string; maxRssMb?: number } {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...commandArgs], {
    cwd: options.cwd,
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
    timeout: options.timeoutMs ?? 30 * 60_000,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rssKb = Number((result.stderr ?? '').trim().split('\n').pop());
  return {
    seconds,
    status: result.status,
    stdout: result.stdout ?? '',
    ...(Number.isFinite(rssKb) ? { maxRssMb: rssKb / 1024 } : {}),
  };
}

async function directoryBenchmark(): Promise<void> {
  ensureCorpus();
  const planted = plantSecrets();
  const { bytes, files } = corpusBytes(corpus);
  const mb = bytes / 1e6;
  console.log(`corpus: ${corpus} — ${mb.toFixed(1)} MB, ${files} files, ${planted.size} planted secrets`);
  const ruleSet = builtinRuleSet();

  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const outcome = await scanDirectory(corpus, { ruleSet, respectGitignore: false });
  const ourSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const ourCpuSeconds = (cpu.user + cpu.system) / 1e6;
  const found = new Set(outcome.findings.map((finding) => finding.secret));
  const missed = [...planted].filter((secret) => !found.has(secret));
  const ourRate = mb / ourSeconds;
  console.log(
    `keyledger scan dir (${ruleSet.rules.length} rules, decode depth 5, 2 threads): ${ourSeconds.toFixed(2)} s, ${ourRate.toFixed(1)} MB/s, ` +
      `${ourCpuSeconds.toFixed(2)} s CPU (all threads), peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB, ` +
      `${outcome.findings.length} findings, scanned ${(outcome.bytes / 1e6).toFixed(1)} MB in ${outcome.files} files ` +
      `(skipped ${outcome.skippedBinary.length} binary, ${outcome.skippedOversized.length} oversized); ` +
      `planted found: ${planted.size - missed.length}/${planted.size}`,
  );
  if (missed.length)
    console.log(
      `MISSED planted secrets of rules: ${BUILTIN_RULE_FIXTURES.filter((f) =>
        f.positives.some((p) => missed.includes(p.secret)),
      )
        .map((f) => f.ruleId)
        .join(', ')}`,
    );

  // ripgrep, the same keywords as case-insensitive literals (the prefilter's bound), 2 threads and 1.
  const keywordsFile = join(tmpdir(), 'keyledger-bench-keywords.txt');
  const keywords = [...new Set(ruleSet.rules.flatMap((rule) => rule.keywords))];
  writeFileSync(keywordsFile, `${keywords.join('\n')}\n`);
  const rgArgs = ['-i', '-F', '-f', keywordsFile, '--no-ignore', '--hidden', '-c', '-a', corpus];
  const rg2 = timeCommand('rg', ['-j2', ...rgArgs]);
  const rg1 = timeCommand('rg', ['-j1', ...rgArgs]);
  console.log(
    `ripgrep keyword pass (${keywords.length} keywords, rg -i -F -f): 2 threads ${rg2.seconds.toFixed(2)} s (${(mb / rg2.seconds).toFixed(0)} MB/s, ${rg2.maxRssMb?.toFixed(0)} MB), 1 thread ${rg1.seconds.toFixed(2)} s (${(mb / rg1.seconds).toFixed(0)} MB/s)`,
  );
  if (!args.includes('--skip-rg-regex')) {
    const regexFile = join(tmpdir(), 'keyledger-bench-regexes.txt');
    writeFileSync(
      regexFile,
      `${ruleSet.rules
        .map((rule) => rule.regex)
        .filter(Boolean)
        .join('\n')}\n`,
    );
    const rgRegex = timeCommand('rg', ['-j2', '-f', regexFile, '--no-ignore', '--hidden', '-c', '-a', corpus], {
      timeoutMs: 120_000,
    });
    console.log(
      `ripgrep with our ${ruleSet.rules.length} rule regexes (-f, 2 threads): ${rgRegex.status === null ? '> 120 s (stopped)' : `${rgRegex.seconds.toFixed(2)} s (${(mb / rgRegex.seconds).toFixed(0)} MB/s)`}`,
    );
  }

  let secretlintLine = 'secretlint: skipped';
  let secretlintRate = 0;
  if (!args.includes('--skip-secretlint')) {
    const configDir = mkdtempSync(join(tmpdir(), 'keyledger-bench-secretlint-'));
    writeFileSync(
      join(configDir, '.secretlintrc.json'),
      JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] }),
    );
    const secretlint = join(process.cwd(), 'node_modules', '.bin', 'secretlint');
    const result = timeCommand(
      secretlint,
      ['--secretlintrc', join(configDir, '.secretlintrc.json'), '--format', 'json', '--maskSecrets', `${corpus}/**/*`],
      { cwd: process.cwd() },
    );
    secretlintRate = mb / result.seconds;
    secretlintLine = `secretlint 13.0.6 (recommend preset): ${result.seconds.toFixed(2)} s, ${secretlintRate.toFixed(1)} MB/s, ${result.maxRssMb?.toFixed(0)} MB, exit ${result.status}`;
    rmSync(configDir, { recursive: true, force: true });
  }
  console.log(secretlintLine);
  console.log(
    `ratios: keyledger/secretlint = ${secretlintRate ? (ourRate / secretlintRate).toFixed(2) : 'n/a'}x (target >= 3x); ` +
      `keyledger/ripgrep keyword pass (2 threads) = ${((ourRate / (mb / rg2.seconds)) * 100).toFixed(0)}% (target >= 25%)`,
  );
}

/** Builds a repository of `count` commits with git fast-import, each adding or editing one file of real source. */
function buildHistoryRepo(count: number): { dir: string; planted: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'keyledger-bench-history-'));
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  const sources: string[] = [];
  const stack = [
    join(corpus, 'typescript', 'lib'),
    join(corpus, 'lodash'),
    join(corpus, 'eslint', 'lib'),
    join(corpus, 'webpack', 'lib'),
  ];
  while (stack.length && sources.length < 4000) {
    const current = stack.pop() as string;
    if (!existsSync(current)) continue;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (/\.(js|ts)$/.test(entry.name) && statSync(path).size < 400_000) sources.push(path);
    }
  }
  const texts = sources.map((path) => readFileSync(path, 'utf8').split('\n'));
  const planted: string[] = [];
  const chunks: string[] = [];
  const fileCount = 600;
  const fileLines: string[][] = Array.from({ length: fileCount }, () => []);
  let cursor = 0;
  for (let i = 0; i < count; i++) {
    const fileIndex = (i * 7919) % fileCount;
    const source = texts[i % texts.length] as string[];
    const take = 40 + (i % 80);
    cursor += take;
    const start = cursor % Math.max(1, source.length - take);
    const added = source.slice(start, start + take);
    if (i % 1000 === 500) {
      const fixture = BUILTIN_RULE_FIXTURES[((i / 1000) % BUILTIN_RULE_FIXTURES.length) | 0];
      const positive = fixture?.positives[0];
      // Cases tied to a file type (a .tf, a nuget.config) would not be found in the history's .js files.
      if (positive && !positive.path) {
        added.push(positive.text.replace(/\n$/, ''));
        planted.push(positive.secret);
      }
    }
    const lines = fileLines[fileIndex] as string[];
    // Edit: insert the new lines in the middle, and drop a few old ones, so diffs have real hunks.
    const at = Math.floor(lines.length / 2);
    lines.splice(at, Math.min(5, lines.length - at), ...added);
    if (lines.length > 3000) lines.splice(0, lines.length - 3000);
    const content = `${lines.join('\n')}\n`;
    const when = 1_600_000_000 + i * 600;
    const message = `change ${i}`;
    chunks.push(
      `commit refs/heads/main\nmark :${i + 1}\nauthor Bench Author <bench${i % 17}@example.com> ${when} +0000\ncommitter Bench Author <bench@example.com> ${when} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n` +
        `${i > 0 ? `from :${i}\n` : ''}M 100644 inline src/file-${fileIndex}.js\ndata ${Buffer.byteLength(content)}\n${content}\n`,
    );
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: chunks.join(''), maxBuffer: 1 << 30 });
  execFileSync('git', ['checkout', '-q', 'main'], { cwd: dir });
  execFileSync('git', ['gc', '-q'], { cwd: dir });
  return { dir, planted };
}

async function historyBenchmark(): Promise<void> {
  ensureCorpus();
  const built = process.hrtime.bigint();
  const { dir, planted } = buildHistoryRepo(commits);
  const count = execFileSync('git', ['rev-list', '--count', '--all'], { cwd: dir, encoding: 'utf8' }).trim();
  console.log(
    `history repo: ${count} commits, built in ${(Number(process.hrtime.bigint() - built) / 1e9).toFixed(1)} s at ${dir}`,
  );
  // The reference: git producing the patches alone, output discarded.
  const gitArgs = ['log', '-p', '-U0', '--full-history', '--all', '--diff-filter=tuxdb'];
  const reference = await new Promise<{ seconds: number; bytes: number }>((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('git', gitArgs, { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let bytes = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    child.on('error', reject);
    child.on('close', () => resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes }));
  });
  console.log(
    `git ${gitArgs.join(' ')}: ${reference.seconds.toFixed(2)} s, ${(reference.bytes / 1e6).toFixed(1)} MB of patches (${(reference.bytes / 1e6 / reference.seconds).toFixed(1)} MB/s)`,
  );
  const started = process.hrtime.bigint();
  const outcome = await scanGitHistory(dir, { all: true }, { ruleSet: builtinRuleSet() });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const found = new Set(outcome.findings.map((finding) => finding.secret));
  const missed = planted.filter((secret) => !found.has(secret));
  console.log(
    `keyledger scan git --all: ${seconds.toFixed(2)} s, ${outcome.commits} commits, ${(outcome.bytes / 1e6).toFixed(1)} MB of added lines, ` +
      `${outcome.findings.length} findings, planted found ${planted.length - missed.length}/${planted.length}; ` +
      `ratio to git log alone: ${(seconds / reference.seconds).toFixed(2)}x (target <= 2x)`,
  );
  rmSync(dir, { recursive: true, force: true });
}

/** Runs a command with its stdout counted (not kept), reporting wall time and the command's own peak RSS and CPU. */
function measureStreaming(
  command: string,
  commandArgs: string[],
  cwd: string,
): Promise<{ seconds: number; bytes: number; status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, commandArgs, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let tail = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      tail = (tail + chunk.toString('utf8')).slice(-4096);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (status) =>
      resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes, status, stdout: tail, stderr }),
    );
  });
}

/**
 * A real repository's whole history: the issue's reference command alone, then keyledger's history scan (all
 * refs, built-in rules, worker threads as the CLI chooses) in a child process that reports its own peak RSS.
 */
async function realHistoryBenchmark(repo: string, runs: number): Promise<void> {
  const count = execFileSync('git', ['rev-list', '--count', '--all'], { cwd: repo, encoding: 'utf8' }).trim();
  const refs =
    execFileSync('git', ['for-each-ref', '--format=x'], { cwd: repo, encoding: 'utf8' }).split('\n').length - 1;
  console.log(`history repo: ${repo}: ${count} commits on ${refs} refs`);
  const outRoot = await compiledRoot();
  const runner = join(outRoot, 'history-scan-runner.mjs');
  writeFileSync(
    runner,
    [
      `import { scanGitHistory } from ${JSON.stringify(join(outRoot, 'src/scan/scanner.js'))};`,
      `import { builtinRuleSet } from ${JSON.stringify(join(outRoot, 'src/scan/rules/builtin-rules.js'))};`,
      'const ruleSet = builtinRuleSet();',
      'const outcome = await scanGitHistory(process.argv[2], { all: true }, { ruleSet });',
      'const cpu = process.cpuUsage();',
      'console.log(JSON.stringify({ rules: ruleSet.rules.length, findings: outcome.findings.length, commits: outcome.commits,',
      '  bytes: outcome.bytes, maxRssMb: process.resourceUsage().maxRSS / 1024, cpuSeconds: (cpu.user + cpu.system) / 1e6 }));',
    ].join('\n'),
  );
  const gitArgs = ['log', '-p', '-U0', '--full-history', '--all'];
  const ratios: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const git = await measureStreaming('/usr/bin/time', ['-f', '%M %U %S', 'git', ...gitArgs], repo);
    const [gitRssKb, gitUser, gitSystem] = git.stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? [];
    console.log(
      `run ${run}: git ${gitArgs.join(' ')}: ${git.seconds.toFixed(2)} s, ${(git.bytes / 1e6).toFixed(1)} MB of patches, ` +
        `${((gitUser ?? 0) + (gitSystem ?? 0)).toFixed(1)} s CPU, peak RSS ${((gitRssKb ?? 0) / 1024).toFixed(0)} MB`,
    );
    const ours = await measureStreaming('/usr/bin/time', ['-f', '%M %U %S', process.execPath, runner, repo], repo);
    if (ours.status !== 0) throw new Error(`the history scan failed: ${ours.stderr.trim().split('\n')[0] ?? ''}`);
    // CPU of the scan and the git it ran (time counts waited-for children); the steadier figure on a busy machine.
    const [, ourUser, ourSystem] = ours.stderr.trim().split('\n').pop()?.split(' ').map(Number) ?? [];
    const ourCpuWithGit = (ourUser ?? 0) + (ourSystem ?? 0);
    const gitCpu = (gitUser ?? 0) + (gitSystem ?? 0);
    const report = JSON.parse(ours.stdout.trim().split('\n').pop() ?? '{}') as {
      rules: number;
      findings: number;
      commits: number;
      bytes: number;
      maxRssMb: number;
      cpuSeconds: number;
    };
    ratios.push(ours.seconds / git.seconds);
    console.log(
      `run ${run}: keyledger scan git --all (${report.rules} rules): ${ours.seconds.toFixed(2)} s, ${report.commits} commits, ` +
        `${(report.bytes / 1e6).toFixed(1)} MB of added lines, ${report.findings} findings, ${report.cpuSeconds.toFixed(1)} s CPU ` +
        `(all threads, without git; ${ourCpuWithGit.toFixed(1)} s with its git = ${(ourCpuWithGit / gitCpu).toFixed(2)}x git log's), ` +
        `peak RSS ${report.maxRssMb.toFixed(0)} MB (target <= 300 MB); ` +
        `ratio to git log alone: ${(ours.seconds / git.seconds).toFixed(2)}x (target <= 2x)`,
    );
  }
  console.log(`ratios: ${ratios.map((ratio) => `${ratio.toFixed(2)}x`).join(', ')}`);
}

const os = await import('node:os');
const load = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
console.log(
  `machine: ${os.cpus().length} cores, node ${process.version}; load average (1, 5, 15 min) at start: ${load()}`,
);
const historyRepo = flag('--history-repo');
if (historyRepo) {
  await realHistoryBenchmark(historyRepo, Number(flag('--runs') ?? 1));
} else {
  if (!args.includes('--history-only')) await directoryBenchmark();
  if (!args.includes('--dir-only')) await historyBenchmark();
}
console.log(`load average at end: ${load()}`);
