// Anchors of the event log's head, kept outside the database: commits on the registry repository's ref
// `refs/keyledger/anchors`, one per anchor, each chained to the one before and carrying {seq, hash, at} with an
// HMAC under the chain key. A database writer cannot change them, so `events verify` catches a cut tail or a log
// re-hashed from scratch (event-chain-verifier.ts). The ref is on no branch: the registry's history and working
// tree are untouched; push it with `git push origin 'refs/keyledger/*'`. Where the repository signs commits
// (`commit.gpgSign`), anchors are signed too (`commit-tree -S`: plumbing ignores that setting on its own).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { GitError, identityFallbackArgs, runGit } from '../git/git-command.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../telemetry/logger.js';
import { canonicalJson } from './canonical-json.js';
import type { EventChainKey } from './event-chain-key.js';
import type { ChainAnchor } from './event-chain-verifier.js';
import { isChainHash } from './event-hash.js';
import type { ChainHead } from './event-log.js';

export const EVENT_ANCHOR_REF = 'refs/keyledger/anchors';
const ANCHOR_FORMAT_VERSION = 1;
const ANCHOR_AUTHOR = { name: 'keyledger', email: 'keyledger@localhost' };
const MAC_CONTEXT = 'keyledger-event-anchor\n';

/** One anchor as written in its commit message. */
export interface EventAnchor {
  seq: number;
  hash: string;
  /** When it was written (ISO-8601 UTC). */
  at: string;
  keyVersion: string;
  /** The commit on `refs/keyledger/anchors` that holds it. */
  commit: string;
}

export interface AnchorPolicy {
  /** Anchor once this many events were appended since the last anchor (0: never automatically). */
  every: number;
  /** ... or once the head moved and the last anchor is this old. */
  intervalMs: number;
}

export const DEFAULT_ANCHOR_POLICY: AnchorPolicy = { every: 100, intervalMs: 10 * 60_000 };
export const ANCHOR_EVERY_VARIABLE = 'KEYLEDGER_EVENT_ANCHOR_EVERY';
export const ANCHOR_MINUTES_VARIABLE = 'KEYLEDGER_EVENT_ANCHOR_MINUTES';

/** The policy from KEYLEDGER_EVENT_ANCHOR_EVERY / KEYLEDGER_EVENT_ANCHOR_MINUTES, defaults where unset or bad. */
export function anchorPolicyFromEnv(env: NodeJS.ProcessEnv): AnchorPolicy {
  const every = Number(env[ANCHOR_EVERY_VARIABLE]);
  const minutes = Number(env[ANCHOR_MINUTES_VARIABLE]);
  return {
    every: env[ANCHOR_EVERY_VARIABLE] && Number.isInteger(every) && every >= 0 ? every : DEFAULT_ANCHOR_POLICY.every,
    intervalMs:
      env[ANCHOR_MINUTES_VARIABLE] && Number.isFinite(minutes) && minutes > 0
        ? minutes * 60_000
        : DEFAULT_ANCHOR_POLICY.intervalMs,
  };
}

/** True when `dir` is inside a git repository, where anchors can be kept. */
export async function isAnchorRepository(dir: string): Promise<boolean> {
  try {
    await runGit(['rev-parse', '--git-dir'], { cwd: dir });
    return true;
  } catch {
    return false;
  }
}

function anchorMac(anchor: Omit<EventAnchor, 'commit'>, chainKey: EventChainKey): string {
  const covered = { at: anchor.at, hash: anchor.hash, keyVersion: anchor.keyVersion, seq: anchor.seq, v: 1 };
  return createHmac('sha256', chainKey.key)
    .update(MAC_CONTEXT + canonicalJson(covered), 'utf8')
    .digest('hex');
}

function anchorMessage(anchor: Omit<EventAnchor, 'commit'>, chainKey: EventChainKey): string {
  const body = canonicalJson({ ...anchor, v: ANCHOR_FORMAT_VERSION, mac: anchorMac(anchor, chainKey) });
  return `keyledger event-log anchor: row ${anchor.seq}\n\n${body}\n`;
}

type ParsedAnchor = (Omit<EventAnchor, 'commit'> & { mac: string }) | null;

function parseAnchorMessage(message: string): ParsedAnchor {
  const line = message
    .split('\n')
    .map((text) => text.trim())
    .filter((text) => text.startsWith('{'))
    .pop();
  if (!line) return null;
  try {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    if (
      parsed.v !== ANCHOR_FORMAT_VERSION ||
      !Number.isSafeInteger(parsed.seq) ||
      (parsed.seq as number) < 1 ||
      typeof parsed.hash !== 'string' ||
      !isChainHash(parsed.hash) ||
      typeof parsed.at !== 'string' ||
      typeof parsed.keyVersion !== 'string' ||
      typeof parsed.mac !== 'string'
    ) {
      return null;
    }
    return {
      seq: parsed.seq as number,
      hash: parsed.hash,
      at: parsed.at,
      keyVersion: parsed.keyVersion,
      mac: parsed.mac,
    };
  } catch {
    return null;
  }
}

function macMatches(anchor: NonNullable<ParsedAnchor>, chainKey: EventChainKey): boolean {
  if (anchor.keyVersion !== chainKey.version) return false;
  const expected = Buffer.from(anchorMac(anchor, chainKey));
  const actual = Buffer.from(anchor.mac);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The commit `refs/keyledger/anchors` points at, and its message; null when there is no anchor yet. */
async function anchorTip(repository: string): Promise<{ commit: string; message: string } | null> {
  const out = await runGit(['for-each-ref', '--format=%(objectname)%00%(contents)', EVENT_ANCHOR_REF], {
    cwd: repository,
  });
  if (out.trim() === '') return null;
  const split = out.indexOf('\0');
  return { commit: out.slice(0, split), message: out.slice(split + 1) };
}

/**
 * Every anchor on the ref, oldest first, as the verifier takes them: an anchor whose message cannot be read or
 * whose MAC does not verify under `chainKey` comes back with `valid: false`.
 */
export async function readEventAnchors(repository: string, chainKey: EventChainKey): Promise<ChainAnchor[]> {
  const tip = await anchorTip(repository);
  if (!tip) return [];
  const out = await runGit(['log', '--format=%H%x1f%B%x1e', tip.commit, '--'], { cwd: repository });
  const anchors: ChainAnchor[] = [];
  for (const record of out.split('\x1e')) {
    const text = record.replace(/^\n+/, '');
    if (text.trim() === '') continue;
    const [commit = '', message = ''] = text.split('\x1f');
    const source = `git ${commit.slice(0, 12)}`;
    const parsed = parseAnchorMessage(message);
    if (!parsed) {
      anchors.push({ seq: 0, hash: '', source: `${source} (unreadable)`, valid: false });
      continue;
    }
    anchors.push({
      seq: parsed.seq,
      hash: parsed.hash,
      at: parsed.at,
      source,
      valid: macMatches(parsed, chainKey),
    });
  }
  return anchors.reverse();
}

/** The newest anchor, or null when there is none (or the tip cannot be read as one). */
export async function latestEventAnchor(repository: string): Promise<EventAnchor | null> {
  const tip = await anchorTip(repository);
  const parsed = tip ? parseAnchorMessage(tip.message) : null;
  if (!tip || !parsed) return null;
  const { mac: _mac, ...anchor } = parsed;
  return { ...anchor, commit: tip.commit };
}

export interface AnchorOutcome {
  /** True when this call wrote a new anchor. */
  written: boolean;
  /** The newest anchor after the call; null when the log is empty and none was ever written. */
  anchor: EventAnchor | null;
}

/**
 * Writes an anchor for `head` as a new commit on the ref, unless the newest anchor already covers that seq or a
 * later one. Concurrent writers compare-and-swap the ref (`git update-ref NEW OLD`); the loser re-reads and retries.
 */
export async function writeEventAnchor(options: {
  repository: string;
  chainKey: EventChainKey;
  head: ChainHead;
  clock: Clock;
}): Promise<AnchorOutcome> {
  const { repository, chainKey, head } = options;
  const identity = await identityFallbackArgs({ cwd: repository }, ANCHOR_AUTHOR);
  const signing = (await commitSigningConfigured(repository)) ? ['-S'] : [];
  for (let attempt = 1; ; attempt += 1) {
    const tip = await anchorTip(repository);
    const parsedTip = tip ? parseAnchorMessage(tip.message) : null;
    if (tip && parsedTip && parsedTip.seq >= head.seq) {
      const { mac: _mac, ...latest } = parsedTip;
      return { written: false, anchor: { ...latest, commit: tip.commit } };
    }
    const anchor = { seq: head.seq, hash: head.hash, at: options.clock().toISOString(), keyVersion: chainKey.version };
    const emptyTree = (await runGit(['mktree'], { cwd: repository, input: '' })).trim();
    const commit = (
      await runGit([...identity, 'commit-tree', ...signing, emptyTree, ...(tip ? ['-p', tip.commit] : []), '-F', '-'], {
        cwd: repository,
        input: anchorMessage(anchor, chainKey),
      })
    ).trim();
    try {
      await runGit(
        ['update-ref', '-m', `keyledger anchor row ${head.seq}`, EVENT_ANCHOR_REF, commit, tip?.commit ?? ''],
        {
          cwd: repository,
        },
      );
      return { written: true, anchor: { ...anchor, commit } };
    } catch (error) {
      // Another process moved the ref since we read it: look again (its anchor may already cover this head).
      if (!(error instanceof GitError) || attempt >= 5) throw error;
    }
  }
}

/** True when the repository's git config asks for signed commits (`commit.gpgSign`). */
async function commitSigningConfigured(repository: string): Promise<boolean> {
  try {
    return (await runGit(['config', '--bool', '--get', 'commit.gpgsign'], { cwd: repository })).trim() === 'true';
  } catch {
    // Unset: git exits 1.
    return false;
  }
}

export interface EventAnchorerOptions {
  /** The registry repository (any directory inside it). */
  repository: string;
  chainKey: EventChainKey;
  /** The log's committed head (EventLog.head). */
  head: () => Promise<ChainHead | null>;
  clock: Clock;
  policy?: AnchorPolicy;
  logger?: Logger;
  /**
   * How long to wait before looking again when an append was heard of but its rows were not committed yet (an
   * `appendWithin` in a caller's transaction); default one second.
   */
  recheckMs?: number;
}

/**
 * Anchors the head now and then, as events are appended: after `policy.every` events, or when the head moved and
 * the newest anchor is older than `policy.intervalMs`. Deciding costs nothing per append once the newest anchor
 * is known (one `git for-each-ref` on first use); writing one costs six short git processes. Failures are logged
 * and never reach the appender: the events are stored whatever happens to their anchor.
 */
export class EventAnchorer {
  readonly #options: EventAnchorerOptions;
  readonly #policy: AnchorPolicy;
  /** The newest anchor's seq and time; undefined until read, null when there is none. */
  #latest: { seq: number; atMs: number } | null | undefined;
  #running: Promise<AnchorOutcome | null> | null = null;
  #repositoryChecked: Promise<boolean> | null = null;
  /** The highest seq heard of through noteAppended, committed or not. */
  #noted = 0;
  #recheck: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: EventAnchorerOptions) {
    this.#options = options;
    this.#policy = { ...(options.policy ?? DEFAULT_ANCHOR_POLICY) };
  }

  get policy(): AnchorPolicy {
    return this.#policy;
  }

  /** Hook for EventLog's `onAppended`: starts an anchor in the background when one is due. */
  noteAppended(head: ChainHead): void {
    this.#noted = Math.max(this.#noted, head.seq);
    // A check under way reads the head itself; the next append, a recheck or the app's close looks again after it.
    if (this.#policy.every === 0 || this.#running || this.#closed) return;
    if (this.#latest !== undefined && !this.#due(head.seq)) return;
    void this.anchorIfDue();
  }

  /**
   * Anchors the committed head if the policy says it is time; never throws (failures are logged). A check already
   * under way is waited for first, then the head is looked at again: it may have moved since that check read it.
   */
  async anchorIfDue(): Promise<AnchorOutcome | null> {
    while (this.#running) await this.#running;
    if (this.#policy.every === 0) return null;
    this.#running = this.#anchorIfDue().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** The last check, when the process is done appending (the app's close): anchors if due, then stops rechecks. */
  async close(): Promise<AnchorOutcome | null> {
    const outcome = await this.anchorIfDue();
    this.#closed = true;
    if (this.#recheck) clearTimeout(this.#recheck);
    this.#recheck = null;
    return outcome;
  }

  /** Waits for an anchor started in the background. */
  async settle(): Promise<void> {
    await this.#running;
  }

  /** Anchors the committed head now (`keyledger events anchor`); throws on failure. */
  async anchorNow(): Promise<AnchorOutcome> {
    await this.settle();
    const head = await this.#options.head();
    if (!head) return { written: false, anchor: await latestEventAnchor(this.#options.repository) };
    const outcome = await writeEventAnchor({ ...this.#options, head });
    this.#remember(outcome);
    return outcome;
  }

  async #anchorIfDue(): Promise<AnchorOutcome | null> {
    try {
      this.#repositoryChecked ??= isAnchorRepository(this.#options.repository);
      if (!(await this.#repositoryChecked)) {
        this.#options.logger?.warn(
          { repository: this.#options.repository },
          'event log not anchored: the registry is not a git repository',
        );
        this.#policy.every = 0;
        return null;
      }
      if (this.#latest === undefined) {
        const latest = await latestEventAnchor(this.#options.repository);
        this.#latest = latest ? { seq: latest.seq, atMs: Date.parse(latest.at) } : null;
      }
      const head = await this.#options.head();
      if (!head || !this.#due(head.seq)) {
        // Heard of rows that are not committed yet (a caller's transaction): look again once it has ended.
        if (this.#noted > (head?.seq ?? 0) && this.#due(this.#noted)) this.#recheckSoon();
        return null;
      }
      const outcome = await writeEventAnchor({ ...this.#options, head });
      this.#remember(outcome);
      return outcome;
    } catch (error) {
      this.#options.logger?.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'event log anchor not written',
      );
      return null;
    }
  }

  #recheckSoon(): void {
    if (this.#recheck || this.#closed) return;
    this.#recheck = setTimeout(() => {
      this.#recheck = null;
      if (!this.#closed) void this.anchorIfDue();
    }, this.#options.recheckMs ?? 1_000);
    // A pending recheck never keeps a finished command alive.
    this.#recheck.unref();
  }

  #due(seq: number): boolean {
    const latest = this.#latest;
    if (latest === undefined || latest === null) return seq > 0;
    if (seq <= latest.seq) return false;
    return (
      seq - latest.seq >= this.#policy.every || this.#options.clock().getTime() - latest.atMs >= this.#policy.intervalMs
    );
  }

  #remember(outcome: AnchorOutcome): void {
    if (outcome.anchor) this.#latest = { seq: outcome.anchor.seq, atMs: Date.parse(outcome.anchor.at) };
  }
}
