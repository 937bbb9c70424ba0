// The sandbox server's shared machinery with a minimal provider: routing, faults consumed in order, the rate
// limit, request counts and the control API.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxControlClient } from './sandbox-control-client.js';
import { SandboxPathRouter } from './sandbox-path-router.js';
import { type SandboxProvider, SandboxServer } from './sandbox-server.js';

function echoProvider(): SandboxProvider {
  const router = new SandboxPathRouter().add('GET', '/things/:id', 'test:GET /things/{id}', (_req, params) => ({
    status: 200,
    body: { id: params.id },
  }));
  return {
    name: 'echo',
    match: (req) => router.match(req),
    notFound: () => ({ status: 404, body: { message: 'nope' } }),
    rateLimited: (retryAfter, status) => ({
      status: status ?? 429,
      headers: { 'retry-after': retryAfter },
      body: { message: 'slow' },
    }),
    failure: (status, echo) => ({ status, body: { message: `broken${echo ? ` ${echo}` : ''}` } }),
    callerSecret: (req) => req.headers.authorization,
    auditLog: () => [{ action: 'x' }],
    groundTruth: () => ({ things: 1 }),
  };
}

describe('SandboxServer', () => {
  const server = new SandboxServer(echoProvider());
  let url: string;
  let control: SandboxControlClient;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await request(`${url}${path}`, { headers });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  };

  beforeAll(async () => {
    url = await server.start();
    control = new SandboxControlClient(url);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('routes by path and answers unknown routes in the provider’s shape', async () => {
    expect(JSON.parse((await get('/things/7')).body)).toEqual({ id: '7' });
    expect(await get('/other')).toMatchObject({ status: 404, body: '{"message":"nope"}' });
  });

  it('applies faults to their operation, in order, as many times as asked', async () => {
    await control.addFault([
      { operation: 'test:GET /things/{id}', kind: 'status', status: 503, times: 2 },
      { operation: '*', kind: 'rate-limit', retryAfterSeconds: 4, retryAfterFormat: 'http-date' },
    ]);
    expect((await get('/things/1')).status).toBe(503);
    expect((await get('/things/1')).status).toBe(503);
    const limited = await get('/things/1');
    expect(limited.status).toBe(429);
    expect(Date.parse(String(limited.headers['retry-after']))).toBeGreaterThan(Date.now());
    expect((await get('/things/1')).status).toBe(200);
  });

  it('echoes the caller’s credential only when a canary fault asks for it', async () => {
    await control.addFault({ kind: 'status', status: 500, echoSecret: true });
    expect((await get('/things/1', { authorization: 'Bearer CANARY' })).body).toContain('CANARY');
  });

  it('drops connections, holds requests and slows answers', async () => {
    await control.addFault({ kind: 'drop' });
    await expect(get('/things/1')).rejects.toThrow();
    await control.addFault({ kind: 'timeout', delayMs: 10_000 });
    const started = Date.now();
    await expect(request(`${url}/things/1`, { headersTimeout: 200 })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
    await control.addFault({ kind: 'slow', delayMs: 150 });
    const slowStart = Date.now();
    expect((await get('/things/1')).status).toBe(200);
    expect(Date.now() - slowStart).toBeGreaterThanOrEqual(140);
  });

  it('enforces its rate limit with the provider’s 429 and Retry-After, and lifts it', async () => {
    await control.setRateLimit({ requests: 2, perSeconds: 60 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get('/things/1')).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    await control.setRateLimit(null);
    expect((await get('/things/1')).status).toBe(200);
  });

  it('counts requests per operation and serves audit log and ground truth', async () => {
    const counts = await control.requestCounts();
    expect(counts['test:GET /things/{id}']).toBeGreaterThan(5);
    expect(await control.auditLog()).toEqual([{ action: 'x' }]);
    expect(await control.groundTruth()).toEqual({ things: 1 });
    await expect(control.call('GET', 'no-such-route')).rejects.toThrow(/404/);
    await expect(control.addFault({ kind: 'explode' as never })).rejects.toThrow(/400/);
  });
});
