// The Slack adapter against the Slack sandbox: the shared contract for a manual provider whose tokens can still be
// verified (auth.test) and revoked with themselves (auth.revoke), then Slack's own: `ok: false` answers with HTTP
// 200, user tokens, and incoming webhooks, which verify refuses rather than post to.
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLACK_BOT_TOKEN_PATTERN, SLACK_USER_TOKEN_PATTERN } from '../../sandbox/providers/slack/slack-key-format.js';
import type { SlackSandbox } from '../../sandbox/providers/slack/slack-sandbox.js';
import { SecretValue } from '../../secrets/secret-value.js';
import type { CreatedKey } from '../provider.js';
import { describeProviderContract } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { SlackProvider } from './slack-provider.js';

async function startSlack() {
  const slack = await startProviderSandbox<SlackSandbox, SlackProvider>({
    name: 'slack',
    adapter: (options, context) => new SlackProvider(options, context),
  });
  const { control } = slack;
  /** A token as installing the app creates it. */
  const plant = async (kind: 'bot' | 'user' = 'bot'): Promise<CreatedKey> => {
    const planted = await control.call<{ token: string; teamId: string; botId?: string; userId: string }>(
      'POST',
      'tokens',
      { kind },
    );
    return {
      providerKeyId: planted.botId ?? planted.userId,
      account: planted.teamId,
      secret: new SecretValue(planted.token),
      createdAt: new Date(),
    };
  };
  return { ...slack, make: () => slack.make(), plant };
}

describeProviderContract('slack', async () => {
  const slack = await startSlack();
  const provider = slack.make();
  const known = await slack.plant();
  return {
    provider,
    sandbox: slack.control,
    sleeps: slack.sleeps,
    createRequest: async () => ({ name: 'unused: Slack tokens come from installing the app' }),
    issueKey: () => slack.plant(),
    exercise: () => provider.verify(known.secret),
    unknownSecret: () => ({ secret: `xoxb-1-2-CANARY${randomBytes(9).toString('hex')}` }),
    operations: { list: 'slack:auth.test', verify: 'slack:auth.test', create: 'slack:none' },
    close: slack.close,
  };
});

describe('Slack adapter specifics', () => {
  let slack: Awaited<ReturnType<typeof startSlack>>;
  beforeAll(async () => {
    slack = await startSlack();
  });
  afterAll(async () => {
    await slack.close();
  });

  it('reads ok: false with HTTP 200 as Slack answers, and names team, user and bot', async () => {
    const provider = slack.make();
    const bot = await slack.plant('bot');
    expect(bot.secret.reveal()).toMatch(SLACK_BOT_TOKEN_PATTERN);
    expect(await provider.verify(bot.secret)).toEqual({
      valid: true,
      identity: expect.stringMatching(/^T[0-9A-Z]+\/U[0-9A-Z]+$/),
      providerKeyId: bot.providerKeyId,
    });
    const user = await slack.plant('user');
    expect(user.secret.reveal()).toMatch(SLACK_USER_TOKEN_PATTERN);
    expect((await provider.verify(user.secret)).valid).toBe(true);
    await provider.revoke(user, user.secret);
    expect(await provider.verify(user.secret)).toEqual({ valid: false, reason: 'token_revoked' });
    expect(await provider.verify(new SecretValue('xoxb-0-0-nottherightone000000000'))).toEqual({
      valid: false,
      reason: 'invalid_auth',
    });
  });

  it('needs the token to revoke it, and says so', async () => {
    const provider = slack.make();
    const bot = await slack.plant();
    await expect(provider.revoke(bot)).rejects.toMatchObject({
      code: 'E_PROVIDER_UNSUPPORTED',
      message: expect.stringMatching(/auth\.revoke/),
    });
    expect((await provider.verify(bot.secret)).valid).toBe(true);
  });

  it('refuses to verify or revoke an incoming webhook instead of posting to it', async () => {
    const provider = slack.make();
    expect(provider.capabilities().kinds?.['incoming-webhook']).toMatchObject({
      verify: false,
      revoke: false,
      manual: true,
    });
    const { path } = await slack.control.call<{ path: string }>('POST', 'webhooks', {});
    const webhook = new SecretValue(`https://hooks.slack.com${path}`);
    await expect(provider.verify(webhook)).rejects.toMatchObject({ code: 'E_PROVIDER_UNSUPPORTED' });
    await expect(provider.revoke({ providerKeyId: 'B1' }, webhook)).rejects.toMatchObject({
      code: 'E_PROVIDER_UNSUPPORTED',
    });
    // The sandbox's webhook answers like Slack's, for consumers that post to it.
    const posted = await request(`${slack.url}${path}`, { method: 'POST', body: JSON.stringify({ text: 'hello' }) });
    expect(await posted.body.text()).toBe('ok');
    const unknown = await request(`${slack.url}/services/T1/B1/nope`, { method: 'POST', body: '{"text":"x"}' });
    expect(unknown.statusCode).toBe(404);
    expect(await unknown.body.text()).toBe('no_service');
  });

  it('declares itself manual: create, list and last use are unsupported', async () => {
    const provider = slack.make();
    expect(provider.capabilities()).toMatchObject({
      manual: true,
      create: false,
      list: false,
      lastUsed: false,
      revoke: true,
    });
    await expect(provider.create()).rejects.toMatchObject({ code: 'E_PROVIDER_UNSUPPORTED' });
    await expect(provider.lastUsed()).rejects.toMatchObject({ code: 'E_PROVIDER_UNSUPPORTED' });
    await expect(provider.list()[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'E_PROVIDER_UNSUPPORTED',
    });
  });
});
