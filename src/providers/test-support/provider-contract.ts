// The one specification every Provider adapter passes (STYLE habit 2), against its provider's sandbox. An
// adapter's test file calls `describeProviderContract(name, setup)`; `setup` starts the sandbox and builds the
// adapter with a recording sleep, so backoff is asserted (the adapter asked to wait Retry-After) without waiting.
// Secrets are canaries: a test fails if one ever shows up in an error or a reason.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../errors/provider-error.js';
import type { SandboxControlClient } from '../../sandbox/sandbox-control-client.js';
import { SecretValue } from '../../secrets/secret-value.js';
import type { CreatedKey, CreateKeyRequest, Provider, ProviderKey } from '../provider.js';

export interface ProviderContractTarget {
  /** The adapter, built with `recordingSleep` and a short per-attempt timeout (~300 ms) and up to 4 attempts. */
  provider: Provider;
  /** The control API of the sandbox the adapter talks to. */
  sandbox: SandboxControlClient;
  /** The waits the adapter asked for, in order (the recording sleep's log). */
  sleeps: number[];
  /** A request `create()` accepts; each call may prepare a fresh account (AWS: a new user). */
  createRequest(): Promise<CreateKeyRequest>;
  /** A working key that verify/lastUsed/revoke address. Defaults to `create(createRequest())`; GitHub plants a PAT. */
  issueKey?(): Promise<CreatedKey>;
  /** A well-formed secret the provider does not know, with the ref verify needs. Used as a canary. */
  unknownSecret(): { secret: string; ref?: { providerKeyId: string; account?: string } };
  /** The same adapter with a credential the provider refuses. Absent for adapters that hold none (manual ones). */
  providerWithBadCredentials?(): Provider;
  /** The adapter's own credential, which must never appear in an error (absent: the case is skipped). */
  adapterSecret?: string;
  /**
   * The idempotent call the fault tests aim at, answered by the `operations.list` operation. Defaults to draining
   * `list()`; manual providers, which have nothing to list, verify a known key instead.
   */
  exercise?(): Promise<unknown>;
  /** Sandbox operation names the fault tests aim at. */
  operations: { list: string; verify: string; create: string };
  /** A provider limit: after `prepare()` creates up to the limit, one more create is refused with `providerCode`. */
  limit?: { request(): Promise<CreateKeyRequest>; keysAllowed: number; providerCode: string };
  close(): Promise<void>;
}

/** A sleep that records what it was asked and returns at once. */
export function recordingSleep(log: number[]): (ms: number) => Promise<void> {
  return async (ms) => {
    log.push(ms);
    await new Promise((resolve) => setImmediate(resolve));
  };
}

/** A value unlike any other in the run, recognisable if it leaks. */
export function providerCanary(label: string): string {
  return `${label}CANARY${randomBytes(10).toString('hex')}`;
}

/** Every way an error can be turned into text; none may contain `secret`. */
export function expectFreeOfSecret(value: unknown, secret: string): void {
  const texts = [
    String(value),
    value instanceof Error ? (value.stack ?? '') : '',
    inspect(value, { depth: 8 }),
    JSON.stringify(value) ?? '',
  ];
  for (const text of texts) expect(text).not.toContain(secret);
}

async function captureError(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

async function collect(iterable: AsyncIterable<ProviderKey>): Promise<ProviderKey[]> {
  const keys: ProviderKey[] = [];
  for await (const key of iterable) keys.push(key);
  return keys;
}

export function describeProviderContract(name: string, setup: () => Promise<ProviderContractTarget>): void {
  describe(`Provider contract: ${name}`, () => {
    let target: ProviderContractTarget;
    const issue = () =>
      target.issueKey ? target.issueKey() : target.createRequest().then((r) => target.provider.create(r));
    const exercise = () => (target.exercise ? target.exercise() : collect(target.provider.list()));

    beforeAll(async () => {
      target = await setup();
    });
    afterAll(async () => {
      await target?.close();
    });
    beforeEach(async () => {
      await target.sandbox.clearFaults();
      target.sleeps.length = 0;
    });

    it('declares its capabilities and a usable rate limit', () => {
      const capabilities = target.provider.capabilities();
      expect(capabilities.verify).toBe(true);
      // A manual provider (no issuance API) may have no list or revoke either: Stripe has neither.
      if (!capabilities.manual) expect(capabilities.list && capabilities.revoke).toBe(true);
      const limit = target.provider.rateLimit();
      expect(limit.requests).toBeGreaterThan(0);
      expect(limit.perSeconds).toBeGreaterThan(0);
      expect(target.provider.name).toBe(name);
    });

    it('creates a key whose secret never prints, and lists it', async () => {
      if (!target.provider.capabilities().create) return;
      const request = await target.createRequest();
      const created = await target.provider.create(request);
      expect(created.providerKeyId).not.toBe('');
      expect(created.secret).toBeInstanceOf(SecretValue);
      expectFreeOfSecret(created, created.secret.reveal());
      const listed = await collect(target.provider.list({ account: created.account! }));
      expect(listed.map((key) => key.providerKeyId)).toContain(created.providerKeyId);
      for (const key of listed) expectFreeOfSecret(key, created.secret.reveal());
      await target.provider.revoke(created);
    });

    it('verifies a working key and refuses an unknown one without repeating it', async () => {
      const key = await issue();
      const good = await target.provider.verify(key.secret, key);
      expect(good.valid).toBe(true);
      const unknown = target.unknownSecret();
      const bad = await target.provider.verify(new SecretValue(unknown.secret), unknown.ref);
      expect(bad.valid).toBe(false);
      expect(bad.reason).toBeTruthy();
      expectFreeOfSecret(bad, unknown.secret);
    });

    it('moves last used when the key calls the provider', async () => {
      // Some providers record no last use at all (Twilio, SendGrid): they declare it and are not asked.
      if (!target.provider.capabilities().lastUsed) return;
      const key = await issue();
      const before = await target.provider.lastUsed(key);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect((await target.provider.verify(key.secret, key)).valid).toBe(true);
      const after = await target.provider.lastUsed(key);
      expect(after.at).toBeInstanceOf(Date);
      if (before.at) expect(after.at!.getTime()).toBeGreaterThan(before.at.getTime());
    });

    it('revokes a key, after which verify fails; revoking again is not an error', async () => {
      if (!target.provider.capabilities().revoke) return;
      const key = await issue();
      await target.provider.revoke(key, key.secret);
      const result = await target.provider.verify(key.secret, key);
      expect(result.valid).toBe(false);
      expectFreeOfSecret(result, key.secret.reveal());
      await target.provider.revoke(key, key.secret);
      if (!target.provider.capabilities().list) return;
      const listed = await collect(target.provider.list({ account: key.account! }));
      const still = listed.find((item) => item.providerKeyId === key.providerKeyId);
      if (still) expect(still.status).not.toBe('active');
    });

    it('waits as long as a 429 Retry-After (seconds) asks, then succeeds', async () => {
      await target.sandbox.addFault({
        operation: target.operations.list,
        kind: 'rate-limit',
        status: 429,
        retryAfterSeconds: 2,
      });
      const before = (await target.sandbox.requestCounts())[target.operations.list] ?? 0;
      await exercise();
      expect(target.sleeps.some((ms) => ms >= 2000)).toBe(true);
      expect(((await target.sandbox.requestCounts())[target.operations.list] ?? 0) - before).toBeGreaterThanOrEqual(2);
    });

    it('reads Retry-After written as an HTTP date', async () => {
      await target.sandbox.addFault({
        operation: target.operations.list,
        kind: 'rate-limit',
        status: 429,
        retryAfterSeconds: 5,
        retryAfterFormat: 'http-date',
      });
      await exercise();
      // An HTTP date has one-second precision: 5 s ahead reads as 4 to 5 s.
      expect(target.sleeps.some((ms) => ms >= 3000)).toBe(true);
    });

    it("backs off on the provider's own rate-limit answer", async () => {
      await target.sandbox.addFault({ operation: target.operations.list, kind: 'rate-limit', retryAfterSeconds: 1 });
      await exercise();
      expect(target.sleeps.length).toBeGreaterThanOrEqual(1);
    });

    it('retries 5xx answers and succeeds', async () => {
      await target.sandbox.addFault({ operation: target.operations.list, kind: 'status', status: 503, times: 2 });
      await exercise();
      expect(target.sleeps.length).toBe(2);
    });

    it('gives up on persistent 5xx within its budget with a typed, retryable error', async () => {
      await target.sandbox.addFault({ operation: target.operations.list, kind: 'status', status: 500, times: -1 });
      const error = await captureError(() => exercise());
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).code).toBe('E_PROVIDER_UNAVAILABLE');
      expect((error as ProviderError).status).toBe(500);
      expect((error as ProviderError).retryable).toBe(true);
      expect(target.sleeps.length).toBeLessThan(10);
    });

    it('retries an idempotent call whose answer never comes (timeout)', async () => {
      await target.sandbox.addFault({ operation: target.operations.list, kind: 'timeout', delayMs: 5_000 });
      await exercise();
      expect(target.sleeps.length).toBeGreaterThanOrEqual(1);
    });

    it('retries an idempotent call whose connection drops', async () => {
      await target.sandbox.addFault({ operation: target.operations.list, kind: 'drop' });
      await exercise();
      expect(target.sleeps.length).toBeGreaterThanOrEqual(1);
    });

    it('does not retry a create whose connection drops, and says the create may have happened', async () => {
      if (!target.provider.capabilities().create) return;
      const request = await target.createRequest();
      await target.sandbox.addFault({ operation: target.operations.create, kind: 'drop', times: -1 });
      const error = await captureError(() => target.provider.create(request));
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).retryable).toBe(false);
      expect((error as ProviderError).message).toMatch(/reconcile/);
      expect((await target.sandbox.requestCounts())[target.operations.create] ?? 0).toBeGreaterThan(0);
    });

    it('raises a typed authentication error for a refused adapter credential', async () => {
      if (!target.providerWithBadCredentials) return;
      const error = await captureError(() => collect(target.providerWithBadCredentials!().list()));
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).code).toBe('E_PROVIDER_AUTH');
      expect((error as ProviderError).status).toBeGreaterThanOrEqual(400);
    });

    it('keeps its own credential out of errors even when the provider echoes it', async () => {
      await target.sandbox.addFault({
        operation: target.operations.list,
        kind: 'status',
        status: 500,
        times: -1,
        echoSecret: true,
      });
      const error = await captureError(() => exercise());
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).message).toContain('[REDACTED]');
      if (target.adapterSecret) expectFreeOfSecret(error, target.adapterSecret);
    });

    it('keeps the verified key out of errors even when the provider echoes it', async () => {
      const key = await issue();
      await target.sandbox.addFault({
        operation: target.operations.verify,
        kind: 'status',
        status: 500,
        times: -1,
        echoSecret: true,
      });
      const error = await captureError(() => target.provider.verify(key.secret, key));
      expect(error).toBeInstanceOf(ProviderError);
      expectFreeOfSecret(error, key.secret.reveal());
    });

    it("enforces the provider's own key limit with its own error code", async () => {
      if (!target.limit) return;
      const request = await target.limit.request();
      for (let i = 0; i < target.limit.keysAllowed; i++) await target.provider.create(request);
      const error = await captureError(() => target.provider.create(request));
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).code).toBe('E_PROVIDER_LIMIT_EXCEEDED');
      expect((error as ProviderError).providerCode).toBe(target.limit.providerCode);
      expect((error as ProviderError).retryable).toBe(false);
    });
  });
}
