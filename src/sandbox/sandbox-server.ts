// The shared machinery of every provider sandbox: one node:http server on 127.0.0.1, a provider plugged in that
// speaks the real API, and around it what tests need from a real provider — rate limits answering with the
// provider's own 429/403 and Retry-After, injectable faults per operation, request counts, and a control API
// under CONTROL_PREFIX that adapters never call.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { RateLimit } from '../providers/provider.js';
import { TokenBucket } from '../runtime/token-bucket.js';
import { type SandboxFault, SandboxFaultTable, sandboxFaultSchema } from './sandbox-faults.js';
import type { SandboxSeed } from './sandbox-seed.js';

/** Every control route lives under this prefix, far from any provider's own paths. */
export const CONTROL_PREFIX = '/__sandbox';

export interface SandboxRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body as UTF-8 text. */
  text: string;
  remoteAddress: string;
}

export interface SandboxAnswer {
  status: number;
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is; anything else as JSON. */
  body?: unknown;
}

export interface SandboxRouteMatch {
  /** The operation's name, used by faults and request counts: `iam:CreateAccessKey`, `github:GET /user`. */
  operation: string;
  handle(): SandboxAnswer | Promise<SandboxAnswer>;
}

/** What a provider plugs into the server: its routes, its error shapes, its audit log and ground truth. */
export interface SandboxProvider {
  /** The adapter name it serves (`aws-iam`, `github`, `gitlab`). */
  readonly name: string;
  /** Finds the operation a request calls; undefined for an unknown route. */
  match(request: SandboxRequest): SandboxRouteMatch | undefined;
  /** The provider's own answer for an unknown route. */
  notFound(request: SandboxRequest): SandboxAnswer;
  /** The provider's own rate-limit answer; `status` overrides its usual status when a fault asks for one. */
  rateLimited(retryAfter: string, status?: number): SandboxAnswer;
  /** The provider's own answer for a server-side failure; `echo` is put into the message (canary tests). */
  failure(status: number, echo?: string): SandboxAnswer;
  /** The credential a request carries (its token or secret), for echo faults. */
  callerSecret(request: SandboxRequest): string | undefined;
  /**
   * Whose budget a request spends: GitHub and GitLab limit per token or user, AWS per account. Requests with the
   * same answer share one bucket; without this method all requests do.
   */
  rateLimitKey?(request: SandboxRequest): string;
  /** Provider-specific control routes under `${CONTROL_PREFIX}/` (plant a token, set a delay...). */
  control?(request: SandboxRequest, subpath: string): SandboxAnswer | Promise<SandboxAnswer> | undefined;
  /** Loads an organisation's keys (with their secrets) and people; keys of other providers are ignored. */
  load?(seed: SandboxSeed): void;
  /** The audit log in the provider's own record format. */
  auditLog(): unknown;
  /** What the sandbox holds, for tests to compare against (secrets omitted). */
  groundTruth(): unknown;
}

export interface SandboxServerOptions {
  host?: string;
  port?: number;
  /** The provider's request budget as the sandbox enforces it; null lifts it. */
  rateLimit?: RateLimit | null;
}

export class SandboxServer {
  readonly provider: SandboxProvider;
  readonly faults = new SandboxFaultTable();
  readonly #requestCounts = new Map<string, number>();
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #server: Server;
  readonly #host: string;
  readonly #port: number;
  #limit: RateLimit | null;
  readonly #buckets = new Map<string, TokenBucket>();
  #url: string | undefined;

  constructor(provider: SandboxProvider, options: SandboxServerOptions = {}) {
    this.provider = provider;
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
    this.#limit = options.rateLimit ?? null;
    this.#server = createServer((req, res) => {
      this.#serve(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`sandbox error: ${(error as Error).message}`);
        }
      });
    });
    // Longer than clients keep idle sockets (undici: the server's hint less a second): a server that closes an idle
    // socket first races a client reusing it, and on a starved machine (every sandbox in one busy process) the
    // client loses — "other side closed" on a request that never reached the server.
    this.#server.keepAliveTimeout = 65_000;
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** The base URL, e.g. `http://127.0.0.1:41234`; set once started. */
  get url(): string {
    if (!this.#url) throw new Error(`the ${this.provider.name} sandbox is not started`);
    return this.#url;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.#host, () => resolve());
    });
    const address = this.#server.address() as AddressInfo;
    this.#url = `http://${this.#host}:${address.port}`;
    return this.#url;
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  setRateLimit(limit: RateLimit | null): void {
    this.#limit = limit;
    this.#buckets.clear();
  }

  #bucketFor(request: SandboxRequest): TokenBucket | null {
    if (!this.#limit) return null;
    const key = this.provider.rateLimitKey?.(request) ?? 'all';
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.#limit);
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Requests seen per operation since start (faulted ones included). */
  requestCounts(): Record<string, number> {
    return Object.fromEntries(this.#requestCounts);
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const request: SandboxRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      text: body.toString('utf8'),
      remoteAddress: req.socket.remoteAddress ?? '127.0.0.1',
    };
    if (request.path === CONTROL_PREFIX || request.path.startsWith(`${CONTROL_PREFIX}/`)) {
      send(res, await this.#control(request, request.path.slice(CONTROL_PREFIX.length + 1)));
      return;
    }
    const route = this.provider.match(request);
    if (!route) {
      send(res, this.provider.notFound(request));
      return;
    }
    this.#requestCounts.set(route.operation, (this.#requestCounts.get(route.operation) ?? 0) + 1);
    const fault = this.faults.take(route.operation);
    if (fault) {
      const handled = await this.#applyFault(fault, request, req, res);
      if (handled) return;
    }
    const bucket = this.#bucketFor(request);
    if (bucket && !bucket.tryAcquire()) {
      const seconds = Math.max(1, Math.ceil(bucket.waitTimeMs() / 1000));
      send(res, this.provider.rateLimited(String(seconds)));
      return;
    }
    send(res, await route.handle());
  }

  /** Returns true when the fault answered (or swallowed) the request; false to go on to the handler. */
  async #applyFault(
    fault: SandboxFault,
    request: SandboxRequest,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<boolean> {
    switch (fault.kind) {
      case 'drop':
        req.socket.destroy();
        return true;
      case 'timeout': {
        // Never answer; drop the connection once the hold is over (or when the server stops).
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          req.socket.destroy();
        }, fault.delayMs ?? 30_000);
        this.#timers.add(timer);
        return true;
      }
      case 'slow':
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.#timers.delete(timer);
            resolve();
          }, fault.delayMs ?? 1_000);
          this.#timers.add(timer);
        });
        return false;
      case 'rate-limit': {
        const seconds = fault.retryAfterSeconds ?? 1;
        const retryAfter =
          fault.retryAfterFormat === 'http-date'
            ? new Date(Date.now() + seconds * 1000).toUTCString()
            : String(seconds);
        send(res, this.provider.rateLimited(retryAfter, fault.status));
        return true;
      }
      case 'status': {
        const echo = fault.echoSecret ? this.provider.callerSecret(request) : undefined;
        send(res, this.provider.failure(fault.status ?? 500, echo));
        return true;
      }
    }
  }

  async #control(request: SandboxRequest, subpath: string): Promise<SandboxAnswer> {
    const route = `${request.method} ${subpath}`;
    switch (route) {
      case 'GET health':
        return { status: 200, body: { provider: this.provider.name, url: this.#url } };
      case 'GET faults':
        return { status: 200, body: this.faults.list() };
      case 'POST faults': {
        const input = JSON.parse(request.text || '{}') as unknown;
        const list = Array.isArray(input) ? input : [input];
        const parsed = list.map((item) => sandboxFaultSchema.safeParse(item));
        const bad = parsed.find((item) => !item.success);
        if (bad && !bad.success) return { status: 400, body: { error: bad.error.issues[0]?.message ?? 'bad fault' } };
        for (const item of list) this.faults.add(item);
        return { status: 201, body: this.faults.list() };
      }
      case 'DELETE faults':
        this.faults.clear();
        return { status: 204 };
      case 'PUT rate-limit': {
        const input = JSON.parse(request.text || 'null') as RateLimit | null;
        this.setRateLimit(input && input.requests > 0 ? input : null);
        return { status: 200, body: { rateLimit: input } };
      }
      case 'GET requests':
        return { status: 200, body: this.requestCounts() };
      case 'GET audit-log':
        return { status: 200, body: this.provider.auditLog() };
      case 'GET ground-truth':
        return { status: 200, body: this.provider.groundTruth() };
    }
    const answer = await this.provider.control?.(request, subpath);
    return answer ?? { status: 404, body: { error: `no control route ${route}` } };
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, answer: SandboxAnswer): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { ...(answer.headers ?? {}) };
  let payload: string | Buffer | undefined;
  if (answer.body === undefined || answer.body === null) payload = undefined;
  else if (typeof answer.body === 'string' || Buffer.isBuffer(answer.body)) payload = answer.body;
  else {
    payload = JSON.stringify(answer.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(answer.status, headers);
  res.end(payload);
}
