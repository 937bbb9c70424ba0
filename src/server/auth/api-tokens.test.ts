// API tokens are keys like any: rotated through the API, the successor (read from the secret store, where rotation
// hands it over) proves the same grant, and the old token stops working once the rotation revoked it; revoked, a
// token is refused. On both database engines.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { type ApiHarness, startApiHarness } from '../test-support/api-harness.js';
import { ApiTokens } from './api-tokens.js';

forEachBackend((backend) => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiHarness(backend);
  }, 120_000);
  afterAll(async () => api?.stop());

  it('keeps its grant through a rotation, and a revoked token is refused', async () => {
    const tokens = new ApiTokens(api.running.app, api.clock);
    const created = await tokens.create({
      team: 'search',
      role: 'member',
      scopes: ['keys:read'],
      expiresInDays: 30,
      owner: 'bob@example.com',
      actor: 'test',
    });
    const before = await tokens.authenticate(created.token);
    expect(before).toMatchObject({ principal: { kind: 'api-token', subject: created.keyId, teams: ['search'] } });

    const etag = (await api.call('admin', 'GET', `/api/v1/keys/${created.keyId}`)).headers.get('etag')!;
    const started = await api.call('admin', 'POST', `/api/v1/keys/${created.keyId}/rotations`, {
      headers: { 'if-match': etag },
    });
    expect(started.status).toBe(202);
    await expect
      .poll(
        async () =>
          (await api.call('admin', 'GET', `/api/v1/rotations/${started.body.rotation.rotation_id}`)).body.rotation
            .state,
        { timeout: 20_000 },
      )
      .toBe('done');
    const entry = (await api.call('admin', 'GET', `/api/v1/keys/${created.keyId}`)).body.entry;
    const successor = (await api.running.app.secretStore(entry.storage.store).get(entry.storage.path))!.value;
    expect(successor.reveal()).not.toBe(created.token.reveal());
    expect(await tokens.authenticate(successor)).toEqual(before);
    expect(await tokens.authenticate(created.token)).toMatchObject({ refused: 'revoked', keyId: created.keyId });

    await api.running.app
      .revoker()
      .revoke({ keyId: created.keyId, actor: 'test', reason: 'done with it', keepSecret: true });
    expect(await tokens.authenticate(successor)).toMatchObject({ refused: 'revoked' });
    expect(await tokens.authenticate(new SecretValue('kl_live_not-a-token'))).toEqual({ refused: 'malformed' });
  });
});
