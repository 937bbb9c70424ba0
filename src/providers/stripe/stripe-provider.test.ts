// The Stripe adapter against the Stripe sandbox: the shared contract for a manual provider (keys planted as the
// Dashboard would, verify as the call the fault cases aim at), then Stripe's own: restricted keys, rolled keys,
// and everything Stripe offers no API for raising E_PROVIDER_UNSUPPORTED.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeSandbox } from '../../sandbox/providers/stripe/stripe-sandbox.js';
import { SecretValue } from '../../secrets/secret-value.js';
import type { CreatedKey } from '../provider.js';
import { describeProviderContract } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { StripeProvider, stripeKeyId } from './stripe-provider.js';

async function startStripe() {
  const stripe = await startProviderSandbox<StripeSandbox, StripeProvider>({
    name: 'stripe',
    adapter: (options, context) => new StripeProvider(options, context),
  });
  const { control } = stripe;
  /** A key as a person creates it in the Dashboard. */
  const plant = async (input: { restricted?: boolean; permissions?: string[] } = {}): Promise<CreatedKey> => {
    const planted = await control.call<{ secret: string; account: string; providerKeyId: string }>(
      'POST',
      'keys',
      input,
    );
    return {
      providerKeyId: planted.providerKeyId,
      account: planted.account,
      secret: new SecretValue(planted.secret),
      createdAt: new Date(),
    };
  };
  return { ...stripe, make: () => stripe.make(), plant };
}

describeProviderContract('stripe', async () => {
  const stripe = await startStripe();
  const provider = stripe.make();
  const known = await stripe.plant();
  return {
    provider,
    sandbox: stripe.control,
    sleeps: stripe.sleeps,
    createRequest: async () => ({ name: 'unused: Stripe keys are created in the Dashboard' }),
    issueKey: () => stripe.plant(),
    exercise: () => provider.verify(known.secret, known),
    unknownSecret: () => ({ secret: `sk_live_CANARY${randomBytes(20).toString('hex')}` }),
    operations: { list: 'stripe:GET /v1/balance', verify: 'stripe:GET /v1/balance', create: 'stripe:none' },
    close: stripe.close,
  };
});

describe('Stripe adapter specifics', () => {
  let stripe: Awaited<ReturnType<typeof startStripe>>;
  beforeAll(async () => {
    stripe = await startStripe();
  });
  afterAll(async () => {
    await stripe.close();
  });

  it('declares itself manual and answers everything but verify with E_PROVIDER_UNSUPPORTED', async () => {
    const provider = stripe.make();
    expect(provider.capabilities()).toMatchObject({
      manual: true,
      create: false,
      list: false,
      revoke: false,
      lastUsed: false,
    });
    expect(provider.capabilities().kinds?.['secret-key']?.note).toMatch(/Dashboard/);
    await expect(provider.create()).rejects.toMatchObject({
      code: 'E_PROVIDER_UNSUPPORTED',
      message: expect.stringMatching(/ticket/),
    });
    await expect(provider.revoke()).rejects.toMatchObject({ code: 'E_PROVIDER_UNSUPPORTED' });
    await expect(provider.lastUsed()).rejects.toMatchObject({ code: 'E_PROVIDER_UNSUPPORTED' });
    await expect(provider.list()[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'E_PROVIDER_UNSUPPORTED',
    });
  });

  it('proves a restricted key without balance read by the 403 that names the missing permission', async () => {
    const provider = stripe.make();
    const restricted = await stripe.plant({ restricted: true, permissions: ['charges:write'] });
    expect(restricted.secret.reveal()).toMatch(/^rk_live_[0-9A-Za-z]{99}$/);
    expect(await provider.verify(restricted.secret, restricted)).toEqual({
      valid: true,
      identity: restricted.account,
      providerKeyId: stripeKeyId(restricted.secret.reveal()),
    });
  });

  it('refuses a key rolled in the Dashboard once it expires, in Stripe’s words', async () => {
    const provider = stripe.make();
    const key = await stripe.plant();
    await stripe.control.call('POST', 'keys/roll', { secret: key.secret.reveal(), expiresInSeconds: 0 });
    const result = await provider.verify(key.secret);
    expect(result.valid).toBe(false);
    expect(result.reason).toMatch(/^Expired API Key provided: sk_live_\*+/);
    expect(result.reason).not.toContain(key.secret.reveal());
  });
});
