// Specification of the Vault sandbox against Vault's documented answers, spoken to over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVaultSandbox, type VaultSandbox } from './vault-sandbox.js';

let vault: VaultSandbox;
beforeAll(async () => {
  vault = await startVaultSandbox({
    rootToken: 'root-token',
    approle: { roleId: 'role-1', secretId: 'secret-1', namespace: 'team-a' },
  });
});
afterAll(() => vault.close());

async function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; namespace?: string } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token !== null) headers['x-vault-token'] = options.token ?? 'root-token';
  if (options.namespace) headers['x-vault-namespace'] = options.namespace;
  const response = await fetch(`${vault.url}/v1/${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: Vault's JSON, read field by field by each expectation.
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as any) };
}

describe('vault sandbox: KV v2', () => {
  it('writes versions and reads the latest or a given one', async () => {
    const first = await call('POST', 'secret/data/app/one', { body: { data: { value: 'a' } } });
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ version: 1, destroyed: false, deletion_time: '' });
    await call('PUT', 'secret/data/app/one', { body: { data: { value: 'b' } } });
    const latest = await call('GET', 'secret/data/app/one');
    expect(latest.body.data.data).toEqual({ value: 'b' });
    expect(latest.body.data.metadata.version).toBe(2);
    const old = await call('GET', 'secret/data/app/one?version=1');
    expect(old.body.data.data).toEqual({ value: 'a' });
  });

  it('answers 404 with an empty errors array for a missing secret or version', async () => {
    expect(await call('GET', 'secret/data/app/missing')).toEqual({ status: 404, body: { errors: [] } });
    expect(await call('GET', 'secret/metadata/app/missing')).toEqual({ status: 404, body: { errors: [] } });
    await call('POST', 'secret/data/app/v', { body: { data: { value: 'x' } } });
    expect(await call('GET', 'secret/data/app/v?version=9')).toEqual({ status: 404, body: { errors: [] } });
  });

  it('enforces check-and-set as Vault does', async () => {
    expect(
      (await call('POST', 'secret/data/app/cas', { body: { options: { cas: 0 }, data: { value: 'a' } } })).status,
    ).toBe(200);
    const conflict = await call('POST', 'secret/data/app/cas', { body: { options: { cas: 0 }, data: { value: 'b' } } });
    expect(conflict).toEqual({
      status: 400,
      body: { errors: ['check-and-set parameter did not match the current version'] },
    });
    expect(
      (await call('POST', 'secret/data/app/cas', { body: { options: { cas: 1 }, data: { value: 'b' } } })).body.data
        .version,
    ).toBe(2);
    await call('POST', 'secret/metadata/app/cas', { body: { cas_required: true } });
    const required = await call('POST', 'secret/data/app/cas', { body: { data: { value: 'c' } } });
    expect(required).toEqual({ status: 400, body: { errors: ['check-and-set parameter required for this call'] } });
  });

  it('keeps custom_metadata, lists versions, and prunes beyond max_versions', async () => {
    await call('POST', 'secret/metadata/app/meta', {
      body: { max_versions: 2, custom_metadata: { owner: 'payments' } },
    });
    for (const value of ['a', 'b', 'c']) await call('POST', 'secret/data/app/meta', { body: { data: { value } } });
    const metadata = await call('GET', 'secret/metadata/app/meta');
    expect(metadata.body.data).toMatchObject({
      current_version: 3,
      oldest_version: 2,
      max_versions: 2,
      custom_metadata: { owner: 'payments' },
    });
    expect(Object.keys(metadata.body.data.versions)).toEqual(['2', '3']);
    expect((await call('GET', 'secret/data/app/meta?version=1')).status).toBe(404);
    const read = await call('GET', 'secret/data/app/meta');
    expect(read.body.data.metadata.custom_metadata).toEqual({ owner: 'payments' });
  });

  it('refuses custom_metadata beyond Vault limits without echoing the value', async () => {
    const long = 'v'.repeat(513);
    const answer = await call('POST', 'secret/metadata/app/limits', { body: { custom_metadata: { big: long } } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors[0]).toContain('big');
    expect(JSON.stringify(answer.body)).not.toContain(long);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, index) => [`k${index}`, 'v']));
    expect((await call('POST', 'secret/metadata/app/limits', { body: { custom_metadata: many } })).status).toBe(400);
  });

  it('soft-deletes, destroys and removes everything with delete-metadata', async () => {
    await call('POST', 'secret/data/app/gone', { body: { data: { value: 'a' } } });
    await call('POST', 'secret/data/app/gone', { body: { data: { value: 'b' } } });
    expect((await call('POST', 'secret/destroy/app/gone', { body: { versions: [1] } })).status).toBe(204);
    const destroyed = await call('GET', 'secret/data/app/gone?version=1');
    expect(destroyed.status).toBe(404);
    expect(destroyed.body.data.metadata.destroyed).toBe(true);
    expect((await call('DELETE', 'secret/data/app/gone')).status).toBe(204);
    expect((await call('GET', 'secret/data/app/gone')).body.data.metadata.deletion_time).not.toBe('');
    expect((await call('DELETE', 'secret/metadata/app/gone')).status).toBe(204);
    expect((await call('GET', 'secret/metadata/app/gone')).status).toBe(404);
    const again = await call('POST', 'secret/data/app/gone', { body: { options: { cas: 0 }, data: { value: 'c' } } });
    expect(again.body.data.version).toBe(1);
  });

  it('answers an unmounted path as Vault does', async () => {
    const answer = await call('GET', 'kv/data/app/x');
    expect(answer.status).toBe(404);
    expect(answer.body.errors[0]).toContain('no handler for route');
  });
});

describe('vault sandbox: auth and namespaces', () => {
  it('answers 403 permission denied without a token or with a bad one', async () => {
    expect(await call('GET', 'secret/data/app/one', { token: null })).toEqual({
      status: 403,
      body: { errors: ['permission denied'] },
    });
    expect(await call('GET', 'secret/data/app/one', { token: 'hvs.nope' })).toEqual({
      status: 403,
      body: { errors: ['permission denied'] },
    });
  });

  it('logs in with AppRole in its namespace, and the token is scoped to it', async () => {
    const bad = await call('POST', 'auth/approle/login', {
      token: null,
      namespace: 'team-a',
      body: { role_id: 'role-1', secret_id: 'wrong' },
    });
    expect(bad).toEqual({ status: 400, body: { errors: ['invalid role or secret ID'] } });
    const login = await call('POST', 'auth/approle/login', {
      token: null,
      namespace: 'team-a',
      body: { role_id: 'role-1', secret_id: 'secret-1' },
    });
    expect(login.status).toBe(200);
    const token = login.body.auth.client_token as string;
    expect(login.body.auth.lease_duration).toBe(3600);
    expect(
      (await call('POST', 'secret/data/shared', { token, namespace: 'team-a', body: { data: { value: 'a' } } })).status,
    ).toBe(200);
    expect((await call('GET', 'secret/data/shared', { token, namespace: 'team-a/child' })).status).toBe(404);
    expect((await call('GET', 'secret/data/shared', { token })).status).toBe(403);
    expect((await call('GET', 'secret/data/shared', { token, namespace: 'team-b' })).status).toBe(403);
    // Namespaces hold separate secrets: the root token sees nothing at this path in the root namespace.
    expect((await call('GET', 'secret/data/shared')).status).toBe(404);
    expect((await call('GET', 'secret/data/shared', { namespace: 'team-a' })).body.data.data).toEqual({ value: 'a' });
    vault.expireTokens();
    expect((await call('GET', 'secret/data/shared', { token, namespace: 'team-a' })).status).toBe(403);
  });
});
