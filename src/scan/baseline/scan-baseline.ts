// A baseline of accepted findings, so that findings already known (and being dealt with) do not block new
// commits. Entries are matched by rule, file and a salted SHA-256 of the secret, not by line: code moves, a
// baselined secret does not become new because a line was inserted above it. The file never holds a secret.
// A gitleaks JSON report (`--baseline-path` in gitleaks) is accepted as a baseline too.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ConfigError } from '../../errors/keyledger-error.js';
import type { Finding } from '../findings/finding.js';

export interface BaselineEntry {
  ruleId: string;
  file: string;
  secretHash: string;
  /** Where it was when the baseline was written; informative only. */
  line?: number;
  commit?: string;
}

export interface BaselineFile {
  version: 1;
  tool: 'keyledger';
  salt: string;
  findings: BaselineEntry[];
}

function secretHash(salt: string, secret: string): string {
  return `sha256:${createHash('sha256').update(salt).update('\0').update(secret).digest('hex')}`;
}

function entryKey(ruleId: string, file: string, hash: string): string {
  return `${ruleId}\0${file}\0${hash}`;
}

export class ScanBaseline {
  readonly #salt: string;
  readonly #keys = new Set<string>();

  private constructor(salt: string) {
    this.#salt = salt;
  }

  static empty(): ScanBaseline {
    return new ScanBaseline(randomBytes(16).toString('hex'));
  }

  static async load(path: string): Promise<ScanBaseline> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new ConfigError(`cannot read the baseline ${path}: ${(error as Error).message}`, {
        code: 'E_SCAN_BASELINE',
        cause: error,
      });
    }
    if (Array.isArray(parsed)) {
      // A gitleaks report: it holds the secrets themselves; hash them with a fresh salt.
      const baseline = ScanBaseline.empty();
      for (const record of parsed as Array<Record<string, unknown>>) {
        if (typeof record.RuleID === 'string' && typeof record.File === 'string' && typeof record.Secret === 'string') {
          baseline.#keys.add(entryKey(record.RuleID, record.File, secretHash(baseline.#salt, record.Secret)));
        }
      }
      return baseline;
    }
    const file = parsed as Partial<BaselineFile>;
    if (file.tool !== 'keyledger' || typeof file.salt !== 'string' || !Array.isArray(file.findings)) {
      throw new ConfigError(`${path} is neither a keyledger baseline nor a gitleaks JSON report`, {
        code: 'E_SCAN_BASELINE',
      });
    }
    const baseline = new ScanBaseline(file.salt);
    for (const entry of file.findings) baseline.#keys.add(entryKey(entry.ruleId, entry.file, entry.secretHash));
    return baseline;
  }

  get size(): number {
    return this.#keys.size;
  }

  contains(finding: Finding): boolean {
    const hash = secretHash(this.#salt, finding.secret?.reveal() ?? finding.match?.reveal() ?? '');
    return this.#keys.has(entryKey(finding.ruleId, finding.file, hash));
  }

  /** Writes a baseline holding `findings` (salted hashes only). */
  static async write(path: string, findings: Finding[]): Promise<void> {
    const salt = randomBytes(16).toString('hex');
    const entries: BaselineEntry[] = findings.map((finding) => ({
      ruleId: finding.ruleId,
      file: finding.file,
      secretHash: secretHash(salt, finding.secret?.reveal() ?? finding.match?.reveal() ?? ''),
      line: finding.startLine,
      ...(finding.commit ? { commit: finding.commit.sha } : {}),
    }));
    const file: BaselineFile = { version: 1, tool: 'keyledger', salt, findings: entries };
    await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
  }
}
