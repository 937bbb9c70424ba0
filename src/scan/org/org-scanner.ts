// `keyledger scan org`: every repository of an organisation, each fetched into a temporary bare clone (shallow —
// the tip only — unless history is asked for), scanned through the same pipeline as `scan git` (config, ignores,
// ownership, --verify), with a bounded number of repositories at once. With history, a repository scanned before
// is scanned only from its last scanned commit on (org-scan-state.ts). Each finding is attributed to its
// repository and to the commit's author; with a registry, to the key's owner as well (scan-pipeline.ts).
// Nothing is left behind: each clone is removed when its scan ends, failed or not, and a failed repository is
// reported with its error and keeps its old state entry, so the next run retries it.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding } from '../findings/finding.js';
import { runScan, type ScanRequest } from '../scan-pipeline.js';
import type { OrgScanState } from './org-scan-state.js';
import type { OrgRepository } from './repository-source.js';

export interface OrgScanOptions {
  repositories: OrgRepository[];
  /** Scan each repository's history (from its last scanned commit on); otherwise the tip of its default branch. */
  history: boolean;
  /** Repositories scanned at once (default 2). */
  concurrency?: number;
  state: OrgScanState;
  /** What every repository's scan shares: config, ownership, verification, environment. */
  scan: Pick<ScanRequest, 'cwd' | 'env' | 'configPath' | 'ownership' | 'verify' | 'verifyDeclared' | 'threads'>;
  /** Called as each repository ends (progress; the CLI prints it on stderr). */
  onRepository?: (result: OrgRepositoryResult) => void;
  /** Where the temporary clones go (default the system's temporary directory). */
  workDir?: string;
  /** The time recorded in the state (the CLI passes its clock's). */
  now?: Date;
}

export interface OrgRepositoryResult {
  name: string;
  /** The commit scanned up to (HEAD of the clone), when the clone succeeded. */
  head?: string;
  /** The commit the scan started after (the previous run's), for an incremental history scan. */
  since?: string;
  findings: OrgFinding[];
  /** Why the repository could not be scanned; free of URLs and credentials. */
  error?: string;
}

export interface OrgFinding extends Finding {
  repository: string;
}

export interface OrgScanReport {
  repositories: OrgRepositoryResult[];
  findings: OrgFinding[];
  /** The state to save: updated for every repository scanned in full. */
  state: OrgScanState;
}

/** Removes credentials from a URL-bearing message (`https://user:token@host` -> `https://***@host`). */
export function withoutCredentials(text: string): string {
  return text.replace(/([a-z+]+:\/\/)[^/@\s]+@/gi, '$1***@');
}

/**
 * git's environment for one repository: with credentials, an `Authorization: Basic` header for the clone URL's
 * origin only (`http.<url>.extraHeader`), passed as GIT_CONFIG_* variables — so the token is in no URL, no
 * command line, no file of the clone and no message git prints.
 */
export function gitEnvironment(repository: OrgRepository, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!repository.credentials) return env;
  let origin: string;
  try {
    origin = new URL(repository.cloneUrl).origin;
  } catch {
    return env;
  }
  const { username, password } = repository.credentials;
  const basic = Buffer.from(`${username}:${password.reveal()}`).toString('base64');
  const count = Number(env.GIT_CONFIG_COUNT ?? 0) || 0;
  return {
    ...env,
    GIT_CONFIG_COUNT: String(count + 1),
    [`GIT_CONFIG_KEY_${count}`]: `http.${origin}/.extraHeader`,
    [`GIT_CONFIG_VALUE_${count}`]: `Authorization: Basic ${basic}`,
  };
}

/**
 * git's last line, with what it means added where git's words hide it: after a refused `Authorization` header git
 * asks for a user name, which an unattended run cannot give ("could not read Username").
 */
function explainGitFailure(line: string): string {
  if (/could not read Username|Authentication failed/i.test(line)) {
    return `the host refused the credentials (HTTP 401: no token, or one without access to this repository) — ${line}`;
  }
  return line;
}

function git(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolveOutput, reject) => {
    // No prompt for credentials: an organisation scan runs unattended.
    const child = spawn('git', args, {
      cwd,
      env: { ...env, GIT_TERMINAL_PROMPT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolveOutput(stdout.trim());
      else {
        const first = stderr.trim().split('\n').at(-1) ?? '';
        reject(new Error(`git ${args[0]} failed (exit ${code}): ${explainGitFailure(withoutCredentials(first))}`));
      }
    });
  });
}

async function scanRepository(
  repository: OrgRepository,
  options: OrgScanOptions,
  workDir: string,
): Promise<OrgRepositoryResult> {
  const scratch = await mkdtemp(join(workDir, 'keyledger-org-scan-'));
  const clone = join(scratch, 'repo.git');
  const env = gitEnvironment(repository, options.scan.env);
  const previous = options.history ? options.state.repositories[repository.name]?.lastCommit : undefined;
  try {
    const depth = options.history ? [] : ['--depth', '1'];
    // git ignores --depth for a clone from a plain path; as a file:// URL it honours it.
    const url =
      !options.history && isAbsolute(repository.cloneUrl)
        ? pathToFileURL(repository.cloneUrl).href
        : repository.cloneUrl;
    await git(['clone', '--bare', '--quiet', '--no-tags', ...depth, '--', url, clone], scratch, env);
    const head = await git(['rev-parse', 'HEAD'], clone, env);
    if (previous === head) return { name: repository.name, head, since: previous, findings: [] };
    // The last scanned commit may be gone (a force push): then the whole history is scanned again.
    const since =
      previous &&
      (await git(['cat-file', '-e', `${previous}^{commit}`], clone, env).then(
        () => true,
        () => false,
      ))
        ? previous
        : undefined;
    const report = await runScan({
      ...options.scan,
      source: { kind: 'git', path: clone, history: since ? { since } : {} },
    });
    const findings = report.findings.map((finding) => ({ ...finding, repository: repository.name }));
    return { name: repository.name, head, ...(since ? { since } : {}), findings };
  } catch (error) {
    return { name: repository.name, findings: [], error: withoutCredentials((error as Error).message) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function scanOrganisation(options: OrgScanOptions): Promise<OrgScanReport> {
  const workDir = options.workDir ?? tmpdir();
  const results: OrgRepositoryResult[] = new Array(options.repositories.length);
  let next = 0;
  const worker = async () => {
    while (next < options.repositories.length) {
      const index = next++;
      const result = await scanRepository(options.repositories[index] as OrgRepository, options, workDir);
      results[index] = result;
      options.onRepository?.(result);
    }
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? 2, options.repositories.length));
  await Promise.all(Array.from({ length: lanes }, worker));

  const state: OrgScanState = { version: 1, repositories: { ...options.state.repositories } };
  const now = (options.now ?? new Date()).toISOString();
  for (const result of results) {
    // Only a history scan covers every commit up to HEAD; a tip scan does not move the mark.
    if (options.history && result.head && !result.error) {
      state.repositories[result.name] = { lastCommit: result.head, scannedAt: now };
    }
  }
  return { repositories: results, findings: results.flatMap((result) => result.findings), state };
}
