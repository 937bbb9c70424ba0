import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../errors/provider-error.js';
import { DEFAULT_RETRY_OPTIONS } from '../../runtime/retry-policy.js';
import { withStepDeadline } from '../../runtime/step-deadline.js';
import { SecretValue } from '../../secrets/secret-value.js';
import type { HttpAnswer } from './provider-http-client.js';
import { SdkCaller, sdkAnswer } from './sdk-caller.js';

/** What an SDK might throw: its own class with the answer's parts on it. */
class FakeSdkError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: unknown,
  ) {
    super(`SDK error ${status}: ${JSON.stringify(body)}`);
  }
}

const adapterKey = new SecretValue('adapter-credential-canary-0001');

function caller(sleeps: number[] = []): SdkCaller {
  return new SdkCaller(
    {
      provider: 'fake',
      retry: { ...DEFAULT_RETRY_OPTIONS, maxAttempts: 3 },
      answerOf: (error) =>
        error instanceof FakeSdkError ? sdkAnswer(error.status, error.headers, error.body) : undefined,
      parseError: (answer: HttpAnswer) => {
        const body = answer.body as { error?: { code?: string; message?: string } };
        return {
          message: body.error?.message ?? answer.text,
          ...(body.error?.code ? { providerCode: body.error.code } : {}),
        };
      },
      secrets: [adapterKey],
    },
    { sleep: async (ms) => void sleeps.push(ms), random: () => 0 },
  );
}

describe('SdkCaller', () => {
  it('maps the answer inside an SDK error to a ProviderError with the provider message, code and status', async () => {
    const error = await caller()
      .call({ idempotent: true }, async () => {
        throw new FakeSdkError(400, {}, { error: { code: 'bad_scope', message: 'scope x is unknown' } });
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'E_PROVIDER_INVALID_REQUEST', status: 400, providerCode: 'bad_scope' });
    expect((error as Error).message).toBe('fake: scope x is unknown');
  });

  it('retries a 429 after its Retry-After, then returns the answer', async () => {
    const sleeps: number[] = [];
    let attempts = 0;
    const result = await caller(sleeps).call({ idempotent: false }, async () => {
      if (++attempts === 1) throw new FakeSdkError(429, { 'Retry-After': '2' }, { error: { message: 'slow down' } });
      return 'created';
    });
    expect(result).toBe('created');
    expect(attempts).toBe(2);
    expect(sleeps).toEqual([2000]);
  });

  it('does not retry a create whose answer was lost, and says to reconcile', async () => {
    let attempts = 0;
    const error = await caller()
      .call({ idempotent: false }, async () => {
        attempts++;
        throw new Error('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      })
      .catch((caught: unknown) => caught);
    expect(attempts).toBe(1);
    expect(error).toMatchObject({ code: 'E_PROVIDER_UNAVAILABLE', providerCode: 'ECONNRESET', retryable: false });
    expect((error as Error).message).toContain('list to reconcile');
  });

  it('retries an idempotent call through a dropped connection and a 503', async () => {
    let attempts = 0;
    const result = await caller().call({ idempotent: true }, async () => {
      attempts++;
      if (attempts === 1) throw Object.assign(new Error('terminated'), { cause: { code: 'UND_ERR_SOCKET' } });
      if (attempts === 2) throw new FakeSdkError(503, {}, 'upstream unavailable');
      return 'listed';
    });
    expect(result).toBe('listed');
    expect(attempts).toBe(3);
  });

  it('cuts the adapter credential and the call secrets out of provider messages', async () => {
    const callKey = new SecretValue('call-key-canary-0002');
    const error = await caller()
      .call({ idempotent: true, secrets: [callKey] }, async () => {
        throw new FakeSdkError(
          401,
          {},
          {
            error: { message: `keys ${adapterKey.reveal()} and ${callKey.reveal()} are not valid` },
          },
        );
      })
      .catch((caught: unknown) => caught as Error);
    expect(error.message).not.toContain('canary');
    expect(JSON.stringify(error)).not.toContain('canary');
    expect(error).toMatchObject({ code: 'E_PROVIDER_AUTH', status: 401 });
  });

  it('reads headers given as a Headers object and bodies given as text', () => {
    const answer = sdkAnswer(429, new Headers({ 'Retry-After': '5' }), '{"message":"later"}');
    expect(answer).toEqual({
      status: 429,
      headers: { 'retry-after': '5' },
      body: { message: 'later' },
      text: '{"message":"later"}',
    });
  });

  it('inside a step: hands the SDK the deadline, gives up at it even when the SDK ignores it, and retries nothing', async () => {
    const deadline = new AbortController();
    const signals: (AbortSignal | undefined)[] = [];
    setTimeout(() => deadline.abort(), 50);
    const started = Date.now();
    const error = await withStepDeadline(deadline.signal, () =>
      caller().call({ idempotent: true }, (signal) => {
        signals.push(signal);
        return new Promise<never>(() => undefined);
      }),
    ).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'E_PROVIDER_TIMEOUT', providerCode: 'STEP_DEADLINE', retryable: false });
    expect(signals).toEqual([deadline.signal]);
  });

  it('inside a step: an SDK failure caused by the abort is the deadline, and nothing is sent once it has passed', async () => {
    const deadline = new AbortController();
    let sent = 0;
    const aborted = withStepDeadline(deadline.signal, () =>
      caller().call({ idempotent: true }, (signal) => {
        sent++;
        return new Promise<never>((_, reject) =>
          signal!.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))),
        );
      }),
    ).catch((caught: unknown) => caught);
    deadline.abort();
    expect(await aborted).toMatchObject({ providerCode: 'STEP_DEADLINE', retryable: false });
    const late = await withStepDeadline(deadline.signal, () =>
      caller().call({ idempotent: true }, async () => {
        sent++;
        return 'sent';
      }),
    ).catch((caught: unknown) => caught);
    expect(late).toMatchObject({ code: 'E_PROVIDER_TIMEOUT', providerCode: 'STEP_DEADLINE' });
    expect(sent).toBe(1);
  });

  it('outside a step: no signal, and the SDK answer comes back as before', async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const answer = await caller().call({ idempotent: true }, async (signal) => {
      signals.push(signal);
      return 'ok';
    });
    expect(answer).toBe('ok');
    expect(signals).toEqual([undefined]);
  });
});
