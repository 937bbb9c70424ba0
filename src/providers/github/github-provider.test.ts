// The GitHub adapter against the GitHub sandbox: the shared contract (keys to verify are fine-grained PATs planted
// as a person would create them; creates are deploy keys), then GitHub's own: PATs cannot be created, deploy keys
// verify by their public half, the 403 secondary rate limit, and audit-log entries with hashed_token.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderError } from '../../errors/provider-error.js';
import { base62Crc32, isValidGithubToken } from '../../runtime/base62-crc32.js';
import type { GithubAuditEntry, GithubSandbox } from '../../sandbox/providers/github/github-sandbox.js';
import { SecretValue } from '../../secrets/secret-value.js';
import type { CreatedKey } from '../provider.js';
import { describeProviderContract } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { generateDeployKey, publicKeyOfPrivateKey } from './github-deploy-key.js';
import { GithubProvider } from './github-provider.js';
import type { GithubOptionsInput } from './github-schemas.js';

async function startGithub() {
  const started = await startProviderSandbox<GithubSandbox, GithubProvider>({
    name: 'github',
    adapter: (options, context) => new GithubProvider(options, context),
    sandboxSettings: { org: 'acme', repositories: ['api', 'web'] },
    adapterOptions: { repositories: ['acme/api'] },
  });
  const plantPat = async (owner = 'octocat'): Promise<CreatedKey> => {
    const planted = await started.control.call<{ secret: string; grantId: number }>('POST', 'tokens', {
      owner,
      name: 'deploy-bot',
    });
    return {
      providerKeyId: String(planted.grantId),
      account: 'acme',
      secret: new SecretValue(planted.secret),
      createdAt: new Date(),
    };
  };
  return { ...started, make: (overrides: Partial<GithubOptionsInput> = {}) => started.make(overrides), plantPat };
}

describeProviderContract('github', async () => {
  const github = await startGithub();
  return {
    provider: github.make(),
    sandbox: github.control,
    sleeps: github.sleeps,
    createRequest: async () => ({ name: `contract-${randomBytes(3).toString('hex')}`, account: 'acme/api' }),
    issueKey: () => github.plantPat(),
    unknownSecret: () => {
      const body = `CANARY${randomBytes(12).toString('hex')}`;
      return { secret: `ghp_${body}${base62Crc32(body)}`, ref: { providerKeyId: '1', account: 'acme' } };
    },
    providerWithBadCredentials: () => github.make({ token: 'ghs_000000000000000000000000000000000000' }),
    adapterSecret: github.sandbox.installationToken,
    operations: {
      list: 'github:GET /orgs/{org}/personal-access-tokens',
      verify: 'github:GET /user',
      create: 'github:POST /repos/{owner}/{repo}/keys',
    },
    close: github.close,
  };
});

describe('GitHub adapter specifics', () => {
  let github: Awaited<ReturnType<typeof startGithub>>;
  beforeAll(async () => {
    github = await startGithub();
  });
  afterAll(async () => {
    await github.close();
  });

  it('verifies a token without credentials of its own (a scanner checking a leak), and says what else needs them', async () => {
    const key = await github.plantPat();
    const bare = github.make({ token: undefined, org: undefined });
    expect((await bare.verify(key.secret, key)).valid).toBe(true);
    await expect(bare.revoke(key)).rejects.toMatchObject({
      code: 'E_PROVIDER_AUTH',
      message: expect.stringContaining('`token`'),
    });
    const noOrg = github.make({ org: undefined });
    await expect(noOrg.lastUsed({ providerKeyId: key.providerKeyId })).rejects.toMatchObject({
      message: expect.stringContaining('`org`'),
    });
  });

  it('says PAT creation is not possible by API, and refuses it with E_PROVIDER_UNSUPPORTED', async () => {
    const provider = github.make();
    expect(provider.capabilities().kinds?.['fine-grained-pat']).toMatchObject({ create: false, manual: true });
    await expect(provider.create({ name: 'pat', account: 'acme' })).rejects.toMatchObject({
      code: 'E_PROVIDER_UNSUPPORTED',
    });
  });

  it('creates a deploy key with an OpenSSH private key and verifies it by its public half', async () => {
    const provider = github.make();
    const created = await provider.create({ name: 'ci-deploy', account: 'acme/api', permissions: ['write'] });
    expect(created.secret.reveal()).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    expect(await provider.verify(created.secret, created)).toMatchObject({
      valid: true,
      providerKeyId: created.providerKeyId,
    });
    const listed = [];
    for await (const key of provider.list({ account: 'acme/api' })) listed.push(key);
    expect(listed.find((key) => key.providerKeyId === created.providerKeyId)).toMatchObject({
      name: 'ci-deploy',
      permissions: ['write'],
    });
    await provider.revoke(created);
    expect((await provider.verify(created.secret, created)).valid).toBe(false);
    expect(
      await provider.lastUsed({ providerKeyId: '999999', account: 'acme/web' }).catch((e: ProviderError) => e.code),
    ).toBe('E_PROVIDER_NOT_FOUND');
  });

  it.skipIf(spawnSync('ssh-keygen', ['-?']).error !== undefined)('writes private keys that OpenSSH reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyledger-deploy-key-'));
    try {
      const pair = generateDeployKey('ci');
      await writeFile(join(dir, 'id'), pair.privateKey, { mode: 0o600 });
      const derived = spawnSync('ssh-keygen', ['-y', '-f', join(dir, 'id')], { encoding: 'utf8' });
      expect(derived.stdout.trim()).toBe(pair.publicKey);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('derives the public key of the OpenSSH private key it writes', () => {
    const pair = generateDeployKey('test', Buffer.alloc(32, 7));
    expect(publicKeyOfPrivateKey(pair.privateKey)).toBe(pair.publicKey.split(' ').slice(0, 2).join(' '));
    expect(generateDeployKey('test', Buffer.alloc(32, 7))).toEqual(pair);
  });

  it('backs off on the 403 secondary rate limit with Retry-After', async () => {
    const provider = github.make();
    github.sleeps.length = 0;
    await github.control.addFault({ operation: 'github:GET /user', kind: 'rate-limit', retryAfterSeconds: 3 });
    const key = await github.plantPat();
    expect((await provider.verify(key.secret, key)).valid).toBe(true);
    expect(github.sleeps[0]).toBeGreaterThanOrEqual(3000);
  });

  it('lists PAT grants with owner, permissions and token_last_used_at, and revokes through the org endpoint', async () => {
    const provider = github.make();
    const key = await github.plantPat('mona');
    await provider.verify(key.secret, key);
    const grants = [];
    for await (const grant of provider.list({ account: 'acme' })) grants.push(grant);
    const grant = grants.find((g) => g.providerKeyId === key.providerKeyId);
    expect(grant).toMatchObject({ createdBy: 'mona', status: 'active', permissions: ['contents:read'] });
    expect(grant?.lastUsedAt).toBeInstanceOf(Date);
    await provider.revoke(key);
    const entries = await github.control.auditLog<GithubAuditEntry[]>();
    const revoked = entries.find((e) => e.action === 'personal_access_token.access_revoked' && e.user === 'mona');
    const expectedHash = createHash('sha256').update(github.sandbox.installationToken).digest('base64');
    expect(revoked).toMatchObject({ actor: 'keyledger[bot]', hashed_token: expectedHash, org: 'acme' });
    expect(revoked?.hashed_token).toHaveLength(44);
    expect(JSON.stringify(entries)).not.toContain(github.sandbox.installationToken);
  });

  it("lists the classic tokens members authorized for the SAML organisation, with the member they act as, and removes one's authorization", async () => {
    const provider = github.make();
    const planted = await github.control.call<{ secret: string; tokenId: number }>('POST', 'tokens', {
      owner: 'lisa',
      name: 'release script',
      kind: 'classic-pat',
      permissions: ['repo', 'admin:org'],
    });
    const ref = { providerKeyId: String(planted.tokenId), account: 'acme' };
    const listed = async () => {
      const keys = [];
      for await (const key of provider.list({ account: 'acme' })) keys.push(key);
      return keys.find((key) => key.providerKeyId === ref.providerKeyId);
    };
    const before = await listed();
    expect(before).toMatchObject({
      holder: 'lisa',
      createdBy: 'lisa',
      name: 'release script',
      status: 'active',
      permissions: ['repo', 'admin:org'],
    });
    // credential_accessed_at is null until the token is used.
    expect(before?.lastUsedAt).toBeUndefined();
    expect(await provider.lastUsed(ref)).toEqual({ at: null });
    expect((await provider.verify(new SecretValue(planted.secret), ref)).valid).toBe(true);
    expect((await provider.lastUsed(ref)).at).toBeInstanceOf(Date);
    // The route's own shape: GitHub's field names, the token's last eight characters only, paged with a Link header.
    const page = await fetch(`${github.url}/orgs/acme/credential-authorizations?per_page=1&login=lisa`, {
      headers: { authorization: `Bearer ${github.sandbox.installationToken}` },
    });
    const [first] = (await page.json()) as Array<Record<string, unknown>>;
    expect(first).toMatchObject({
      login: 'lisa',
      credential_id: planted.tokenId,
      credential_type: 'personal access token',
      token_last_eight: planted.secret.slice(-8),
      scopes: ['repo', 'admin:org'],
    });
    expect(JSON.stringify(first)).not.toContain(planted.secret);
    await provider.revoke(ref);
    expect(await listed()).toBeUndefined();
    expect((await provider.verify(new SecretValue(planted.secret), ref)).valid).toBe(false);
    const entries = await github.control.auditLog<GithubAuditEntry[]>();
    expect(entries.find((e) => e.action === 'org_credential_authorization.deauthorize')).toMatchObject({
      user: 'lisa',
      credential_id: planted.tokenId,
    });
    // Removing it again is done already, as revoking twice is.
    await provider.revoke(ref);
  });

  it('reads no credential authorizations in an organisation without SAML single sign-on (GitHub answers 404)', async () => {
    const plain = await startProviderSandbox<GithubSandbox, GithubProvider>({
      name: 'github',
      adapter: (options, context) => new GithubProvider(options, context),
      sandboxSettings: { org: 'acme', repositories: ['api'], samlSingleSignOn: false },
    });
    try {
      await plain.control.call('POST', 'tokens', { owner: 'lisa', kind: 'classic-pat' });
      const fine = await plain.control.call<{ grantId: number }>('POST', 'tokens', { owner: 'lisa' });
      const keys = [];
      for await (const key of plain.make().list({ account: 'acme' })) keys.push(key.providerKeyId);
      expect(keys).toEqual([String(fine.grantId)]);
      const answer = await fetch(`${plain.url}/orgs/acme/credential-authorizations`, {
        headers: { authorization: `Bearer ${plain.sandbox.installationToken}` },
      });
      expect(answer.status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('mints tokens in GitHub’s checksummed format', async () => {
    const planted = await github.control.call<{ secret: string }>('POST', 'tokens', {
      owner: 'a',
      kind: 'classic-pat',
    });
    expect(isValidGithubToken(planted.secret)).toBe(true);
    const fine = await github.control.call<{ secret: string }>('POST', 'tokens', { owner: 'a' });
    expect(fine.secret).toMatch(/^github_pat_[0-9A-Za-z]{22}_[0-9A-Za-z]{59}$/);
    expect(isValidGithubToken(github.sandbox.installationToken)).toBe(true);
  });

  it('refuses the org PAT endpoints to a personal access token, as GitHub does', async () => {
    const key = await github.plantPat();
    const provider = github.make({ token: key.secret });
    const error = await (async () => {
      for await (const _ of provider.list({ account: 'acme' })) void _;
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_PROVIDER_AUTH', status: 403 });
  });

  it('waits for x-ratelimit-reset on a 403 with no requests remaining, sending the API version header', async () => {
    // GitHub's primary limit answers 403 with x-ratelimit-remaining: 0 and no Retry-After; the sandbox speaks only
    // the secondary shape, so a bare server answers this one.
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      if (seen.length === 1) {
        res.writeHead(403, {
          'content-type': 'application/json; charset=utf-8',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3),
        });
        res.end(JSON.stringify({ message: 'API rate limit exceeded for installation ID 1.' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ login: 'octocat', id: 1 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const provider = github.make({ baseUrl: `http://127.0.0.1:${port}` });
      github.sleeps.length = 0;
      const result = await provider.verify(new SecretValue('ghp_notarealtoken000000000000000000000000'));
      expect(result).toMatchObject({ valid: true, identity: 'octocat' });
      expect(github.sleeps[0]).toBeGreaterThanOrEqual(2000);
      expect(seen).toHaveLength(2);
      expect(seen[0]).toMatchObject({
        'x-github-api-version': '2022-11-28',
        authorization: expect.stringMatching(/^Bearer /),
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
