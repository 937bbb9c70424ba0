// One scan from request to report: load the config, scan the source, turn raw findings into findings, drop
// those ignored by fingerprint, inline comment or baseline, attribute each to its registry entry, and check
// live-ness with the provider when asked. The CLI (and later the server) only parse input and render this.
import { join, resolve } from 'node:path';
import type { SecretValue } from '../secrets/secret-value.js';
import { ScanBaseline } from './baseline/scan-baseline.js';
import { loadScanConfig } from './config/scan-config-loader.js';
import type { ScanEngineOptions } from './engine/scan-engine.js';
import { compareFindings, type Finding, toFinding } from './findings/finding.js';
import { FingerprintIgnoreList, IGNORE_FILE_NAMES } from './findings/fingerprint-ignore-file.js';
import type { OwnershipLookup } from './ownership/ownership-index.js';
import type { ScanRuleSet, VerifyDefinition } from './rules/rule-definition.js';
import {
  type GitHistoryOptions,
  type ScanOutcome,
  type ScanProgress,
  scanDirectory,
  scanGitHistory,
  scanStaged,
  scanStream,
} from './scanner.js';

export type ScanSource =
  | { kind: 'dir'; path: string; respectGitignore: boolean }
  | { kind: 'git'; path: string; history: GitHistoryOptions }
  | { kind: 'staged'; path: string }
  | { kind: 'stdin'; stream: NodeJS.ReadableStream; label?: string };

/** Proves whether a secret is live through the provider's identify-self call; undefined when it cannot tell. */
export type LivenessCheck = (
  providerName: string,
  secret: SecretValue,
) => Promise<{ live: boolean; identity?: string; reason?: string } | undefined>;

/** Runs a rule's declarative verify block for a secret (verify/declarative-verifier.ts). */
export type DeclaredVerifyCheck = (
  definition: VerifyDefinition,
  secret: SecretValue,
) => Promise<{ status: 'verified' | 'invalid' | 'unknown'; reason: string }>;

export interface ScanRequest {
  source: ScanSource;
  cwd: string;
  env: NodeJS.ProcessEnv;
  configPath?: string;
  engine?: Partial<ScanEngineOptions>;
  threads?: number;
  maxFileBytes?: number;
  /** Extra `.gitleaksignore`-style files; the source root's `.gitleaksignore` is always read. */
  ignorePaths?: string[];
  baselinePath?: string;
  ownership?: OwnershipLookup;
  verify?: LivenessCheck;
  /** With `verify`: rules without a provider adapter but with a verify block are checked through this. */
  verifyDeclared?: DeclaredVerifyCheck;
  onProgress?: (progress: ScanProgress) => void;
}

export interface ScanReport {
  ruleSet: ScanRuleSet;
  configPath?: string;
  /** Findings that remain after ignores and the baseline. */
  findings: Finding[];
  /** Every finding before the baseline (what `--write-baseline` records). */
  beforeBaseline: Finding[];
  ignoredByFingerprint: number;
  ignoredByBaseline: number;
  outcome: ScanOutcome;
  elapsedMs: number;
}

function sourceRoot(source: ScanSource, cwd: string): string | undefined {
  return source.kind === 'stdin' ? undefined : resolve(cwd, source.path);
}

export async function runScan(request: ScanRequest): Promise<ScanReport> {
  const started = Date.now();
  const root = sourceRoot(request.source, request.cwd);
  const config = await loadScanConfig({
    cwd: request.cwd,
    env: request.env,
    ...(request.configPath ? { configPath: request.configPath } : {}),
    ...(root ? { sourceDir: root } : {}),
  });
  const common = {
    ruleSet: config.ruleSet,
    ...(request.engine ? { engine: request.engine } : {}),
    ...(request.threads !== undefined ? { threads: request.threads } : {}),
    ...(request.maxFileBytes !== undefined ? { maxFileBytes: request.maxFileBytes } : {}),
    ...(request.onProgress ? { onProgress: request.onProgress } : {}),
  };
  const source = request.source;
  let outcome: ScanOutcome;
  if (source.kind === 'dir') {
    outcome = await scanDirectory(source.path, {
      ...common,
      cwd: request.cwd,
      respectGitignore: source.respectGitignore,
      // gitleaks skips its own config and baseline files.
      skipPaths: [config.path, request.baselinePath].filter((path): path is string => path !== undefined),
    });
  } else if (source.kind === 'git') {
    outcome = await scanGitHistory(root as string, source.history, { ...common, env: request.env });
  } else if (source.kind === 'staged') {
    outcome = await scanStaged(root as string, { ...common, env: request.env });
  } else {
    outcome = await scanStream(source.stream, { ...common, ...(source.label ? { path: source.label } : {}) });
  }

  const ignoreFiles = [
    ...(root ? IGNORE_FILE_NAMES.map((name) => join(root, name)) : []),
    ...(request.ignorePaths ?? []).map((path) => resolve(request.cwd, path)),
  ];
  const ignoreList = await FingerprintIgnoreList.load(ignoreFiles);
  const all = outcome.findings.map(toFinding).sort(compareFindings);
  const kept = all.filter((finding) => !ignoreList.ignores(finding));
  const baseline = request.baselinePath
    ? await ScanBaseline.load(resolve(request.cwd, request.baselinePath))
    : undefined;
  const findings = baseline ? kept.filter((finding) => !baseline.contains(finding)) : kept;

  if (request.ownership) {
    for (const finding of findings) {
      const owner = finding.secret ? request.ownership.ownerOf(finding.secret) : undefined;
      if (owner) finding.owner = owner;
    }
  }
  if (request.verify) {
    const rules = new Map(config.ruleSet.rules.map((rule) => [rule.id, rule]));
    // Declared checks run concurrently (the verifier bounds them); provider adapters keep their one-by-one order.
    const declared: Array<Promise<void>> = [];
    for (const finding of findings) {
      const rule = rules.get(finding.ruleId);
      const provider = finding.owner?.provider ?? rule?.provider;
      if (!finding.secret) continue;
      if (provider) {
        const liveness = await request.verify(provider, finding.secret);
        if (liveness) finding.liveness = { ...liveness, status: liveness.live ? 'verified' : 'invalid' };
      } else if (rule?.verify && request.verifyDeclared) {
        const secret = finding.secret;
        declared.push(
          request.verifyDeclared(rule.verify, secret).then(({ status, reason }) => {
            finding.liveness = { live: status === 'verified', status, reason };
          }),
        );
      }
    }
    await Promise.all(declared);
  }
  return {
    ruleSet: config.ruleSet,
    ...(config.path ? { configPath: config.path } : {}),
    findings,
    beforeBaseline: kept,
    ignoredByFingerprint: all.length - kept.length,
    ignoredByBaseline: kept.length - findings.length,
    outcome,
    elapsedMs: Date.now() - started,
  };
}
