// The declarative verifier against a local HTTP server that answers as a provider does: a working key, a revoked
// one, a 429, a hang, a redirect to another host, a JSON body that decides; and the guarantees around it (one
// request per secret, bounded concurrency, host pacing, the host fixed by the template, no secret in any reason).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { VerifyDefinition } from '../rules/rule-definition.js';
import { basicPasswordVerify, bearerVerify, headerVerify, urlVerify } from '../rules/verify-requests.js';
import { DeclarativeVerifier } from './declarative-verifier.js';
import { renderVerifyRequest, verifyDefinitionProblem } from './verify-request.js';

const LIVE = 'kl_live_canary_3f9a1c77d2e84b5a';
const REVOKED = 'kl_live_canary_revoked_0b1e2d3c4a';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function provider(answer: (seen: Seen, res: ServerResponse) => void): Promise<{ origin: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(entry);
      answer(entry, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A provider whose identify-self call accepts LIVE as a bearer token and refuses anything else. */
function bearerProvider(seen: Seen, res: ServerResponse): void {
  const ok = seen.headers.authorization === `Bearer ${LIVE}`;
  res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
  res.end(JSON.stringify(ok ? { id: 'acct_1' } : { error: 'invalid_token' }));
}

const DECLARED = 'https://api.provider.test';

function verifierFor(origin: string, options: ConstructorParameters<typeof DeclarativeVerifier>[0] = {}) {
  return new DeclarativeVerifier({ hostIntervalMs: 0, ...options, resolveOrigin: () => origin });
}

describe('DeclarativeVerifier', () => {
  it('reports a working key verified and a revoked one invalid, sending the secret as declared', async () => {
    const { origin, seen } = await provider(bearerProvider);
    const verifier = verifierFor(origin);
    const block = bearerVerify(`${DECLARED}/v1/me`);
    expect(await verifier.verify(block, LIVE)).toEqual({ status: 'verified', reason: 'api.provider.test accepted it' });
    expect(await verifier.verify(block, REVOKED)).toEqual({
      status: 'invalid',
      reason: 'api.provider.test refused it (401)',
    });
    expect(seen.map((entry) => [entry.method, entry.url])).toEqual([
      ['GET', '/v1/me'],
      ['GET', '/v1/me'],
    ]);
    expect(seen[0]?.headers['user-agent']).toBe('keyledger-scan');
  });

  it('answers unknown on a 429 and does not retry', async () => {
    const { origin, seen } = await provider((_, res) => {
      res.writeHead(429, { 'retry-after': '1' });
      res.end('slow down');
    });
    const outcome = await verifierFor(origin).verify(bearerVerify(`${DECLARED}/v1/me`), LIVE);
    expect(outcome).toEqual({ status: 'unknown', reason: 'api.provider.test is rate limiting (429); not retried' });
    expect(seen).toHaveLength(1);
  });

  it('answers unknown when the provider does not answer in time', async () => {
    const { origin } = await provider(() => {
      // Never answers: the verifier's timeout must end the wait.
    });
    const started = Date.now();
    const outcome = await verifierFor(origin, { timeoutMs: 200 }).verify(bearerVerify(`${DECLARED}/v1/me`), LIVE);
    expect(outcome).toEqual({ status: 'unknown', reason: 'api.provider.test did not answer in time' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('never follows a redirect: the secret is not re-sent to another host', async () => {
    const elsewhere = await provider(bearerProvider);
    const { origin } = await provider((_, res) => {
      res.writeHead(302, { location: `${elsewhere.origin}/steal` });
      res.end();
    });
    const outcome = await verifierFor(origin).verify(bearerVerify(`${DECLARED}/v1/me`), LIVE);
    expect(outcome).toEqual({ status: 'unknown', reason: 'api.provider.test redirected (302); not followed' });
    expect(elsewhere.seen).toHaveLength(0);
  });

  it('keeps the host the template fixes, whatever the secret holds', async () => {
    const { origin, seen } = await provider((_, res) => {
      res.writeHead(401);
      res.end();
    });
    const hostile = 'x@evil.test/../../?a=#';
    const block = urlVerify(`${DECLARED}/v1/check/{{secret}}?key={{secret}}`);
    const request = renderVerifyRequest(block, hostile);
    expect(request.url.host).toBe('api.provider.test');
    expect(request.url.pathname).toBe(`/v1/check/${encodeURIComponent(hostile)}`);
    await verifierFor(origin).verify(block, hostile);
    expect(seen[0]?.url.startsWith('/v1/check/')).toBe(true);
  });

  it('refuses blocks whose host is not fixed, that are not https, or whose outcomes cannot be told apart', () => {
    const base = bearerVerify(`${DECLARED}/v1/me`);
    expect(verifyDefinitionProblem(base)).toBeUndefined();
    expect(verifyDefinitionProblem({ ...base, url: 'https://{{secret}}.provider.test/v1' })).toMatch(/fixed host/);
    expect(verifyDefinitionProblem({ ...base, url: 'http://api.provider.test/v1' })).toMatch(/https/);
    expect(verifyDefinitionProblem({ ...base, url: 'https://api.provider.test/{{token}}' })).toMatch(/placeholder/);
    expect(verifyDefinitionProblem({ ...base, invalid: { status: [200] } })).toMatch(/both verified and invalid/);
    expect(() => renderVerifyRequest({ ...base, url: 'https://{{secret}}/x' }, LIVE)).toThrow(/refused/);
  });

  it('decides on a JSON field where the provider answers 200 either way', async () => {
    const { origin } = await provider((seen, res) => {
      const ok = seen.body === `api_key=${encodeURIComponent(LIVE)}&format=json`;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ stat: ok ? 'ok' : 'fail' }));
    });
    const block: VerifyDefinition = urlVerify(`${DECLARED}/v2/getAccountDetails`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'api_key={{secret}}&format=json',
      verified: { json: { field: 'stat', equals: 'ok' } },
      invalid: { status: [200], json: { field: 'stat', equals: 'fail' } },
    });
    const verifier = verifierFor(origin);
    expect((await verifier.verify(block, LIVE)).status).toBe('verified');
    expect((await verifier.verify(block, REVOKED)).status).toBe('invalid');
  });

  it('sends HTTP Basic and header shapes as declared', async () => {
    const { origin, seen } = await provider((_, res) => {
      res.writeHead(200);
      res.end('{}');
    });
    const verifier = verifierFor(origin);
    await verifier.verify(basicPasswordVerify(`${DECLARED}/v3/domains`, 'api'), LIVE);
    await verifier.verify(headerVerify(`${DECLARED}/abilities`, 'Authorization', 'Token token='), LIVE);
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from(`api:${LIVE}`).toString('base64')}`);
    expect(seen[1]?.headers.authorization).toBe(`Token token=${LIVE}`);
  });

  it('asks once per distinct secret, however often it leaked (a revoked key storm costs one request)', async () => {
    const { origin, seen } = await provider(bearerProvider);
    const verifier = verifierFor(origin);
    const block = bearerVerify(`${DECLARED}/v1/me`);
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(block, REVOKED)));
    expect(new Set(outcomes.map((outcome) => outcome.status))).toEqual(new Set(['invalid']));
    expect(seen).toHaveLength(1);
  });

  it('keeps at most `concurrency` requests in flight and paces requests to one host', async () => {
    let inFlight = 0;
    let peak = 0;
    const arrivals: number[] = [];
    const { origin } = await provider((_, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      arrivals.push(Date.now());
      setTimeout(() => {
        inFlight--;
        res.writeHead(401);
        res.end();
      }, 30);
    });
    const fast = verifierFor(origin, { concurrency: 2 });
    const block = bearerVerify(`${DECLARED}/v1/me`);
    await Promise.all(Array.from({ length: 8 }, (_, i) => fast.verify(block, `${REVOKED}${i}`)));
    expect(peak).toBe(2);

    arrivals.length = 0;
    const paced = new DeclarativeVerifier({ concurrency: 8, hostIntervalMs: 60, resolveOrigin: () => origin });
    const started = Date.now();
    await Promise.all(Array.from({ length: 4 }, (_, i) => paced.verify(block, `${REVOKED}-paced-${i}`)));
    // The k-th request may not leave before k intervals from the start. Measured from the start rather than between
    // arrivals, which a busy machine delays unevenly (one late arrival shortens the gap to the next) without any
    // request having left early.
    const sinceStart = arrivals.map((at) => at - started).sort((a, b) => a - b);
    expect(sinceStart).toHaveLength(4);
    for (const [k, elapsed] of sinceStart.entries()) expect(elapsed).toBeGreaterThanOrEqual(k * 60 - 10);
  });

  it('never puts the secret in a reason, even when the provider echoes it or cannot be reached', async () => {
    const { origin } = await provider((seen, res) => {
      res.writeHead(500);
      res.end(`bad key ${seen.headers.authorization}`);
    });
    const block = urlVerify(`${DECLARED}/v1/check?key={{secret}}`);
    const outcomes = [
      await verifierFor(origin).verify(bearerVerify(`${DECLARED}/v1/me`), LIVE),
      await verifierFor('http://127.0.0.1:1').verify(block, LIVE),
    ];
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['unknown', 'unknown']);
    for (const outcome of outcomes) expect(JSON.stringify(outcome)).not.toContain(LIVE);
    expect(outcomes[1]?.reason).toBe('could not reach api.provider.test');
  });
});
