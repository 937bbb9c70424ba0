// The shared HTTP client against a real local server: error bodies become typed errors in the provider's words,
// credentials are cut out of them, pages follow Link headers, and failures without an answer are transport errors.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../../errors/provider-error.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { ProviderHttpClient } from './provider-http-client.js';

const token = new SecretValue('tok_CANARY_0123456789abcdef');

describe('ProviderHttpClient', () => {
  let server: Server;
  let url: string;
  const sleeps: number[] = [];
  const client = () =>
    new ProviderHttpClient(
      {
        provider: 'demo',
        baseUrl: `${url}/api/`,
        timeoutMs: 500,
        retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50, budgetMs: 10_000 },
        parseError: (answer) => ({
          message: String((answer.body as { error?: string }).error ?? answer.text),
          providerCode: 'demo_error',
        }),
        headers: () => ({ authorization: `Bearer ${token.reveal()}` }),
        secrets: [token],
      },
      {
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    );

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x');
      if (path.pathname === '/api/echo-credential') {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: `bad token ${req.headers.authorization} / ${encodeURIComponent(token.reveal())}` }),
        );
      } else if (path.pathname === '/api/items') {
        const page = Number(path.searchParams.get('page') ?? 1);
        res.writeHead(200, {
          'content-type': 'application/json',
          ...(page < 3
            ? { link: `<${url}/api/items?page=${page + 1}>; rel="next", <${url}/api/items?page=3>; rel="last"` }
            : {}),
        });
        res.end(JSON.stringify([page]));
      } else if (path.pathname === '/api/text-error') {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html>bad gateway</html>');
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("maps an error body to a typed error in the provider's words, without its credential", async () => {
    const error = await client()
      .send({ method: 'GET', path: '/echo-credential' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({
      code: 'E_PROVIDER_INVALID_REQUEST',
      status: 400,
      providerCode: 'demo_error',
      retryable: false,
    });
    expect((error as Error).message).toBe('demo: bad token Bearer [REDACTED] / [REDACTED]');
  });

  it('follows Link rel="next" through every page', async () => {
    const pages: unknown[] = [];
    for await (const answer of client().paginate({ method: 'GET', path: '/items' })) pages.push(answer.body);
    expect(pages).toEqual([[1], [2], [3]]);
  });

  it('retries a 5xx with a non-JSON body and reports it after the attempts', async () => {
    sleeps.length = 0;
    const error = await client()
      .send({ method: 'GET', path: '/text-error' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_PROVIDER_UNAVAILABLE', status: 502 });
    expect((error as Error).message).toContain('bad gateway');
    expect(sleeps).toHaveLength(2);
  });

  it('accepts statuses the caller expects as answers', async () => {
    const answer = await client().send({ method: 'GET', path: '/missing', accept: [404] });
    expect(answer.status).toBe(404);
  });

  it('reports a refused connection as a retryable transport error', async () => {
    const closed = new ProviderHttpClient({
      provider: 'demo',
      baseUrl: 'http://127.0.0.1:1',
      timeoutMs: 200,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, budgetMs: 1 },
      parseError: () => ({ message: '' }),
    });
    const error = await closed.send({ method: 'GET', path: '/' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_PROVIDER_UNAVAILABLE', retryable: true, providerCode: 'ECONNREFUSED' });
  });
});
