// `.gitleaksignore`-compatible ignore files: one finding fingerprint per line (`[commit:]file:rule:line`), `#`
// comments. A fingerprint without a commit ignores that finding in every commit, as in gitleaks.
import { readFile } from 'node:fs/promises';
import type { Finding } from './finding.js';

export const IGNORE_FILE_NAMES = ['.gitleaksignore', '.keyledgerignore'];

export class FingerprintIgnoreList {
  readonly #fingerprints = new Set<string>();

  add(text: string): this {
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      this.#fingerprints.add(line);
    }
    return this;
  }

  get size(): number {
    return this.#fingerprints.size;
  }

  ignores(finding: Finding): boolean {
    if (this.#fingerprints.has(finding.fingerprint)) return true;
    return (
      finding.commit !== undefined && this.#fingerprints.has(`${finding.file}:${finding.ruleId}:${finding.startLine}`)
    );
  }

  /** Reads the files that exist among `paths`; missing files are simply absent. */
  static async load(paths: string[]): Promise<FingerprintIgnoreList> {
    const list = new FingerprintIgnoreList();
    for (const path of paths) {
      try {
        list.add(await readFile(path, 'utf8'));
      } catch (error) {
        if (!['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      }
    }
    return list;
  }
}
