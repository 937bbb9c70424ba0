// startSandbox end to end: an organisation loaded into the AWS, GitHub and GitLab sandboxes, adapters built by
// name from the sandbox's options, the organisation's own keys verifying, and the files written for scripts.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Provider, ProviderKey } from '../providers/provider.js';
import { createProvider } from '../providers/provider-table.js';
import { systemClock } from '../runtime/clock.js';
import { SecretValue } from '../secrets/secret-value.js';
import { SandboxControlClient } from './sandbox-control-client.js';
import { type RunningSandbox, startSandbox } from './start-sandbox.js';

async function collect(iterable: AsyncIterable<ProviderKey>): Promise<ProviderKey[]> {
  const keys: ProviderKey[] = [];
  for await (const key of iterable) keys.push(key);
  return keys;
}

describe('startSandbox', () => {
  let sandbox: RunningSandbox;
  let dir: string;
  const adapters: Provider[] = [];
  const adapter = (name: string) => {
    const provider = createProvider(
      name,
      { ...sandbox.providerOptions(name), rateLimit: 'off' },
      { clock: systemClock },
    );
    adapters.push(provider);
    return provider;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyledger-sandbox-'));
    sandbox = await startSandbox({ org: 'small', seed: 11, outDir: dir, rateLimits: 'off' });
  });
  afterAll(async () => {
    for (const provider of adapters) (provider as { close?: () => unknown }).close?.();
    await sandbox.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves each provider on 127.0.0.1 with the organisation loaded', async () => {
    expect(Object.keys(sandbox.urls)).toEqual(expect.arrayContaining(['aws-iam', 'github', 'gitlab']));
    for (const url of Object.values(sandbox.urls)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const org = sandbox.org!;
    const awsKeys = await collect(adapter('aws-iam').list());
    for (const key of org.keys.filter((k) => k.provider === 'aws-iam')) {
      expect(awsKeys.map((k) => k.providerKeyId)).toContain(key.providerKeyId);
    }
    // The organisation's tokens: fine-grained PAT grants, and the classic tokens its SAML single sign-on authorized.
    const tokens = org.keys.filter((k) => k.kind === 'fine-grained-pat' || k.kind === 'classic-pat');
    const listed = await collect(adapter('github').list({ account: org.name }));
    expect(listed.map((g) => g.providerKeyId).sort()).toEqual(tokens.map((k) => k.providerKeyId).sort());
  });

  it("verifies the organisation's own keys with the secrets it generated", async () => {
    const org = sandbox.org!;
    for (const provider of ['aws-iam', 'github', 'gitlab']) {
      const key = org.keys.find((k) => k.provider === provider && k.kind !== 'deploy-key')!;
      const result = await adapter(provider).verify(new SecretValue(key.secret), {
        providerKeyId: key.providerKeyId,
        account: key.account,
      });
      expect(result.valid, `${provider} ${key.kind}`).toBe(true);
    }
    const deployKey = org.keys.find((k) => k.kind === 'deploy-key');
    if (deployKey) {
      const result = await adapter('github').verify(new SecretValue(deployKey.secret), {
        providerKeyId: deployKey.providerKeyId,
        account: deployKey.account,
      });
      expect(result.valid).toBe(true);
    }
  });

  it('keeps last-used dates from the organisation and moves them on use', async () => {
    const org = sandbox.org!;
    // The last such key: the test before verified the first one.
    const key = org.keys.findLast((k) => k.provider === 'gitlab' && k.lastUsedAt !== null)!;
    const gitlab = adapter('gitlab');
    const before = await gitlab.lastUsed({ providerKeyId: key.providerKeyId, account: key.account });
    expect(before.at?.toISOString().slice(0, 19)).toBe(key.lastUsedAt!.slice(0, 19));
    await gitlab.verify(new SecretValue(key.secret));
    const after = await gitlab.lastUsed({ providerKeyId: key.providerKeyId, account: key.account });
    expect(after.at!.getTime()).toBeGreaterThan(before.at!.getTime());
  });

  it('writes the registry, people, ground truth and a 0600 sandbox.json with adapter options', async () => {
    const written = sandbox.written!;
    const description = JSON.parse(await readFile(written.sandboxFile, 'utf8'));
    expect(description.urls).toEqual(sandbox.urls);
    expect(description.providers.github).toMatchObject({ org: 'acme', baseUrl: sandbox.urls.github });
    expect((await stat(written.sandboxFile)).mode & 0o777).toBe(0o600);
    expect((await readFile(written.peopleFile!, 'utf8')).split('\n')[0]).toBe('email,name,team,status,left_at');
  });

  it('records CloudTrail history for the organisation’s keys and writes every audit log to files', async () => {
    const org = sandbox.org!;
    const used = org.keys.find((k) => k.provider === 'aws-iam' && k.lastUsedAt !== null)!;
    const files = await sandbox.writeAuditLogs(join(dir, 'audit'));
    expect(files.map((f) => f.split('/').pop()).sort()).toEqual(
      Object.keys(sandbox.urls)
        .map((name) => `${name}.json`)
        .sort(),
    );
    const trail = JSON.parse(await readFile(join(dir, 'audit', 'aws-iam.json'), 'utf8'));
    const record = trail.Records.find(
      (r: { userIdentity: { accessKeyId: string } }) => r.userIdentity.accessKeyId === used.providerKeyId,
    );
    expect(record).toMatchObject({
      eventTime: used.lastUsedAt,
      userIdentity: { type: 'IAMUser', userName: used.account },
    });
    expect(record.sourceIPAddress).toMatch(/^203\.0\.113\.\d+$/);
    const github = JSON.parse(await readFile(join(dir, 'audit', 'github.json'), 'utf8')) as Array<
      Record<string, unknown>
    >;
    const grants = github.filter((e) => e.action === 'personal_access_token.access_granted');
    expect(grants).toHaveLength(org.keys.filter((k) => k.kind === 'fine-grained-pat').length);
    const gitlab = JSON.parse(await readFile(join(dir, 'audit', 'gitlab.json'), 'utf8')) as Array<{
      event_name: string;
      created_at: string;
    }>;
    const gitlabKeys = org.keys.filter((k) => k.provider === 'gitlab');
    expect(gitlab.filter((e) => e.event_name.endsWith('_access_token_created'))).toHaveLength(gitlabKeys.length);
    expect(gitlab[0]!.created_at <= gitlab.at(-1)!.created_at).toBe(true);
  });

  it('answers with the provider’s own 429 when its rate limit is reached', async () => {
    const control = new SandboxControlClient(sandbox.urls.gitlab!);
    await control.setRateLimit({ requests: 1, perSeconds: 60 });
    const { request } = await import('undici');
    const first = await request(`${sandbox.urls.gitlab}/api/v4/personal_access_tokens/self`);
    await first.body.text();
    const second = await request(`${sandbox.urls.gitlab}/api/v4/personal_access_tokens/self`);
    expect(second.statusCode).toBe(429);
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
    expect(await second.body.text()).toBe('Retry later\n');
    // Budgets are per token: another caller still has its own.
    const other = await request(`${sandbox.urls.gitlab}/api/v4/personal_access_tokens/self`, {
      headers: { 'private-token': 'glpat-someoneelse0000000' },
    });
    expect(other.statusCode).toBe(401);
    await other.body.text();
    await control.setRateLimit(null);
  });
});
