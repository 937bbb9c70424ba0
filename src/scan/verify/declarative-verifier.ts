// Runs rules' verify blocks (`scan --verify` for rules without a provider adapter): one request per distinct
// secret and block, no retries (a storm of revoked keys costs one request each, never more), bounded concurrency,
// a minimum interval per host, a timeout, and redirects never followed (a 3xx is `unknown`: the secret is never
// re-sent to wherever a provider — or an attacker's look-alike — points). Outcomes: `verified`, `invalid`,
// `unknown`, each with a reason that names at most the host, never the secret or the URL (which may hold it).
import { createHash } from 'node:crypto';
import type { VerifyCondition, VerifyDefinition } from '../rules/rule-definition.js';
import { declaredOrigin, renderVerifyRequest, verifyDefinitionProblem } from './verify-request.js';

export type VerifyStatus = 'verified' | 'invalid' | 'unknown';

export interface VerifyOutcome {
  status: VerifyStatus;
  /** Why, in words safe to print (status code, host, timeout); never the secret. */
  reason: string;
}

export interface DeclarativeVerifierOptions {
  /** Per request (default 5 s). */
  timeoutMs?: number;
  /** Requests in flight at once, across hosts (default 4). */
  concurrency?: number;
  /** Minimum time between two requests to one host (default 250 ms: at most 4 a second). */
  hostIntervalMs?: number;
  /**
   * Where a declared origin is reached (default: itself). Tests point a provider's origin at a local server that
   * answers as the provider does; the host check is made on the declared origin.
   */
  resolveOrigin?: (origin: string) => string;
  fetch?: typeof fetch;
}

/** A counting semaphore: at most `limit` holders at once. */
class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}
  async take(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

function jsonField(body: unknown, path: string): unknown {
  let value: unknown = body;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function meets(condition: VerifyCondition, status: number, body: unknown): boolean {
  if (!condition.status.includes(status)) return false;
  return condition.json === undefined || jsonField(body, condition.json.field) === condition.json.equals;
}

export class DeclarativeVerifier {
  private readonly slots: Slots;
  private readonly nextSlotByHost = new Map<string, number>();
  private readonly outcomes = new Map<string, Promise<VerifyOutcome>>();
  private readonly timeoutMs: number;
  private readonly hostIntervalMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: DeclarativeVerifierOptions = {}) {
    this.slots = new Slots(options.concurrency ?? 4);
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.hostIntervalMs = options.hostIntervalMs ?? 250;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The outcome for this secret under this block; asked twice, the same request is not made twice. */
  verify(definition: VerifyDefinition, secret: string): Promise<VerifyOutcome> {
    const key = createHash('sha256').update(JSON.stringify(definition)).update('\0').update(secret).digest('hex');
    let outcome = this.outcomes.get(key);
    if (!outcome) {
      outcome = this.run(definition, secret);
      this.outcomes.set(key, outcome);
    }
    return outcome;
  }

  /** Waits until this host may be asked again, and books the slot after it. */
  private async paceHost(origin: string): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextSlotByHost.get(origin) ?? 0);
    this.nextSlotByHost.set(origin, at + this.hostIntervalMs);
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }

  private async run(definition: VerifyDefinition, secret: string): Promise<VerifyOutcome> {
    const problem = verifyDefinitionProblem(definition);
    if (problem) return { status: 'unknown', reason: `verify block refused: ${problem}` };
    const origin = declaredOrigin(definition);
    const host = new URL(origin).host;
    const request = renderVerifyRequest(definition, secret);
    const target = new URL(request.url.pathname + request.url.search, this.options.resolveOrigin?.(origin) ?? origin);
    await this.slots.take();
    try {
      await this.paceHost(origin);
      let response: Response;
      try {
        response = await this.fetchImpl(target, {
          method: request.method,
          // Some APIs refuse requests without a User-Agent (crates.io, GitHub); a block may set its own.
          headers: { 'User-Agent': 'keyledger-scan', ...request.headers },
          ...(request.body !== undefined ? { body: request.body } : {}),
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
        return { status: 'unknown', reason: timedOut ? `${host} did not answer in time` : `could not reach ${host}` };
      }
      const text = await response.text().catch(() => '');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      const status = response.status;
      if (meets(definition.verified, status, body)) return { status: 'verified', reason: `${host} accepted it` };
      if (meets(definition.invalid, status, body))
        return { status: 'invalid', reason: `${host} refused it (${status})` };
      if (status === 429) return { status: 'unknown', reason: `${host} is rate limiting (429); not retried` };
      if (status >= 300 && status < 400)
        return { status: 'unknown', reason: `${host} redirected (${status}); not followed` };
      return { status: 'unknown', reason: `${host} answered ${status}` };
    } finally {
      this.slots.give();
    }
  }
}
