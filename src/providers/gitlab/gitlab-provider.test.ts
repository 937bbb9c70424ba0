// The GitLab adapter against the GitLab sandbox: the shared contract on project access tokens, then GitLab's own:
// native rotate, group and personal tokens, the required expiry, and audit events.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITLAB_TOKEN_PATTERN } from '../../sandbox/providers/gitlab/gitlab-key-format.js';
import type { GitlabAuditEvent, GitlabSandbox } from '../../sandbox/providers/gitlab/gitlab-sandbox.js';
import { describeProviderContract } from '../test-support/provider-contract.js';
import { startProviderSandbox } from '../test-support/provider-sandbox.js';
import { GitlabProvider } from './gitlab-provider.js';
import type { GitlabOptionsInput } from './gitlab-schemas.js';

async function startGitlab() {
  const started = await startProviderSandbox<GitlabSandbox, GitlabProvider>({
    name: 'gitlab',
    adapter: (options, context) => new GitlabProvider(options, context),
    sandboxSettings: { projects: [1, 2], groups: [7] },
    prepare: (sandbox) => {
      sandbox.load({
        people: [{ email: 'ana@example.com', name: 'Ana', login: 'ana', status: 'active' }],
        keys: [
          {
            provider: 'gitlab',
            kind: 'personal-access-token',
            account: 'user:42',
            providerKeyId: '500',
            secret: 'glpat-AAAAAAAAAAAAAAAAAAAA',
            name: 'laptop',
            createdAt: '2025-01-01T00:00:00Z',
            lastUsedAt: null,
            status: 'active',
            createdBy: 'ana@example.com',
            permissions: ['read_api'],
          },
        ],
      });
    },
  });
  return { ...started, make: (overrides: Partial<GitlabOptionsInput> = {}) => started.make(overrides) };
}

describeProviderContract('gitlab', async () => {
  const gitlab = await startGitlab();
  return {
    provider: gitlab.make(),
    sandbox: gitlab.control,
    sleeps: gitlab.sleeps,
    createRequest: async () => ({
      name: `contract-${randomBytes(3).toString('hex')}`,
      account: 'project:1',
      permissions: ['read_api'],
    }),
    unknownSecret: () => ({ secret: `glpat-CANARY${randomBytes(7).toString('hex')}` }),
    providerWithBadCredentials: () => gitlab.make({ token: 'glpat-00000000000000000000' }),
    adapterSecret: gitlab.sandbox.adminToken,
    operations: {
      list: 'gitlab:GET /personal_access_tokens',
      verify: 'gitlab:GET /personal_access_tokens/self',
      create: 'gitlab:POST /projects/:id/access_tokens',
    },
    close: gitlab.close,
  };
});

describe('GitLab adapter specifics', () => {
  let gitlab: Awaited<ReturnType<typeof startGitlab>>;
  beforeAll(async () => {
    gitlab = await startGitlab();
  });
  afterAll(async () => {
    await gitlab.close();
  });

  it('rotates natively: a new token works, the old one stops at once, and the audit events say so', async () => {
    const provider = gitlab.make();
    expect(provider.capabilities().nativeRotate).toBe(true);
    const old = await provider.create({ name: 'ci', account: 'group:7', permissions: ['api'] });
    expect(old.secret.reveal()).toMatch(GITLAB_TOKEN_PATTERN);
    const rotated = await provider.rotate(old);
    expect(rotated.providerKeyId).not.toBe(old.providerKeyId);
    expect(rotated.account).toBe('group:7');
    expect((await provider.verify(rotated.secret)).valid).toBe(true);
    expect((await provider.verify(old.secret)).valid).toBe(false);
    const events = await gitlab.control.auditLog<GitlabAuditEvent[]>();
    expect(events.map((e) => e.event_name)).toEqual(
      expect.arrayContaining(['group_access_token_created', 'group_access_token_rotated']),
    );
    expect(events.find((e) => e.event_name === 'group_access_token_rotated')?.details.custom_message).toContain(
      `token_id: ${old.providerKeyId}`,
    );
    expect(JSON.stringify(events)).not.toContain(rotated.secret.reveal());
  });

  it('verifies a token without an administrator token, which every other call needs', async () => {
    const provider = gitlab.make();
    const created = await provider.create({ name: 'leaked', account: 'project:1' });
    const bare = gitlab.make({ token: undefined });
    expect((await bare.verify(created.secret)).valid).toBe(true);
    await expect(bare.revoke(created)).rejects.toMatchObject({ code: 'E_PROVIDER_AUTH' });
  });

  it('manages personal access tokens of a user (admin create, list by user_id, revoke)', async () => {
    const provider = gitlab.make();
    const created = await provider.create({ name: 'script', account: 'user:42', permissions: ['read_api'] });
    const listed = [];
    for await (const key of provider.list({ account: 'user:42' })) listed.push(key.providerKeyId);
    expect(listed).toEqual(expect.arrayContaining(['500', created.providerKeyId]));
    expect(await provider.verify(created.secret)).toMatchObject({
      valid: true,
      identity: 'user:42',
      providerKeyId: created.providerKeyId,
    });
    await provider.revoke(created);
    await provider.revoke(created);
    expect((await provider.verify(created.secret)).valid).toBe(false);
  });

  it("lists the instance's tokens with a project or group token held by its bot user, a personal one by nobody else", async () => {
    const provider = gitlab.make();
    const project = await provider.create({ name: 'deploy', account: 'project:1' });
    const group = await provider.create({ name: 'release', account: 'group:7' });
    const listed = new Map<string, { account?: string; holder?: string }>();
    for await (const key of provider.list()) listed.set(key.providerKeyId, key);
    // The users API names each token's bot (`GET /users?exclude_humans=true`); a person's token has no holder beside
    // its account, so its user decides (src/audit/key-category.ts).
    expect(listed.get(project.providerKeyId)?.holder).toMatch(/^project_1_bot_/);
    expect(listed.get(group.providerKeyId)?.holder).toMatch(/^group_7_bot_/);
    expect(listed.get(project.providerKeyId)?.account).toMatch(/^user:\d+$/);
    expect(listed.get('500')).toMatchObject({ account: 'user:42' });
    expect(listed.get('500')?.holder).toBeUndefined();
  });

  it("surfaces GitLab's own validation message and a typed error for an unknown project", async () => {
    const provider = gitlab.make();
    const far = new Date(Date.now() + 900 * 86_400_000);
    await expect(provider.create({ name: 'x', account: 'project:1', expiresAt: far })).rejects.toMatchObject({
      code: 'E_PROVIDER_INVALID_REQUEST',
      status: 400,
      message: expect.stringContaining('maximum allowable lifetime'),
    });
    await expect(provider.create({ name: 'x', account: 'project:999' })).rejects.toMatchObject({
      code: 'E_PROVIDER_NOT_FOUND',
      message: expect.stringContaining('404 Project Not Found'),
    });
    await expect(provider.create({ name: 'x', account: 'team-a' })).rejects.toMatchObject({
      code: 'E_PROVIDER_INVALID_REQUEST',
    });
  });

  it('pages through long lists', async () => {
    const provider = gitlab.make();
    for (let i = 0; i < 105; i++) await provider.create({ name: `bulk-${i}`, account: 'project:2' });
    let count = 0;
    for await (const _ of provider.list({ account: 'project:2' })) count++;
    expect(count).toBe(105);
  });
});
