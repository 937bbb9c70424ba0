// A local server speaking HashiCorp Vault's HTTP API for what keyledger uses: KV version 2 (data, metadata,
// delete, destroy) under `/v1/<mount>/`, token auth (`X-Vault-Token`), AppRole login, and Enterprise namespaces
// (`X-Vault-Namespace`), answering with Vault's status codes and `{"errors": [...]}` bodies. For tests and
// `npm start`; the Vault adapter knows it only by its URL.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { VaultKvEngine, VaultKvError } from './vault-kv-engine.js';

export interface VaultSandboxAppRole {
  roleId: string;
  secretId: string;
  /** Lifetime of a login's token (default 3600 s). */
  tokenTtlSeconds?: number;
  /** The auth mount (default `approle`). */
  mount?: string;
  /** The namespace the role lives in (default the root namespace). */
  namespace?: string;
}

export interface VaultSandboxOptions {
  port?: number;
  host?: string;
  /** A token valid everywhere; random when not given. */
  rootToken?: string;
  approle?: VaultSandboxAppRole;
  /** KV version 2 mounts present in every namespace (default `secret`). */
  mounts?: string[];
  /** The mounts' max_versions (default 10, as Vault's). */
  maxVersions?: number;
  now?: () => Date;
}

export interface VaultSandbox {
  url: string;
  rootToken: string;
  /** Expires every token but the root token, as a TTL running out would. */
  expireTokens(): void;
  /** Requests per `METHOD route` since start, e.g. `POST auth/approle/login`. */
  requestCounts(): Record<string, number>;
  close(): Promise<void>;
}

interface TokenEntry {
  namespace: string;
  expiresAt: number | null;
}

export async function startVaultSandbox(options: VaultSandboxOptions = {}): Promise<VaultSandbox> {
  const now = options.now ?? (() => new Date());
  const rootToken = options.rootToken ?? `hvs.root${randomBytes(12).toString('hex')}`;
  const mounts = new Set(options.mounts ?? ['secret']);
  const tokens = new Map<string, TokenEntry>([[rootToken, { namespace: '', expiresAt: null }]]);
  const engines = new Map<string, VaultKvEngine>();
  const counts = new Map<string, number>();

  const engineFor = (namespace: string, mount: string): VaultKvEngine => {
    const key = `${namespace}\u0000${mount}`;
    let engine = engines.get(key);
    if (!engine) {
      engine = new VaultKvEngine({ now, ...(options.maxVersions !== undefined ? { maxVersions: options.maxVersions } : {}) });
      engines.set(key, engine);
    }
    return engine;
  };

  const authorised = (token: string | undefined, namespace: string): boolean => {
    if (!token) return false;
    const entry = tokens.get(token);
    if (!entry) return false;
    if (entry.expiresAt !== null && entry.expiresAt <= now().getTime()) {
      tokens.delete(token);
      return false;
    }
    // A token reaches its own namespace and those beneath it.
    return entry.namespace === '' || namespace === entry.namespace || namespace.startsWith(`${entry.namespace}/`);
  };

  const handle = (method: string, route: string, query: URLSearchParams, headers: IncomingMessage['headers'], body: unknown): Answer => {
    const namespace = normaliseNamespace(header(headers, 'x-vault-namespace'));
    if (method === 'GET' && route === 'sys/health') {
      return { status: 200, body: { initialized: true, sealed: false, standby: false, version: '1.17.0-sandbox', server_time_utc: Math.floor(now().getTime() / 1000) } };
    }
    const approle = options.approle;
    const approleMount = approle?.mount ?? 'approle';
    if ((method === 'POST' || method === 'PUT') && route === `auth/${approleMount}/login` && approle) {
      const input = (body ?? {}) as Record<string, unknown>;
      if (typeof input.role_id !== 'string' || input.role_id === '') return errors(400, ['missing role_id']);
      const sameNamespace = normaliseNamespace(approle.namespace) === namespace;
      if (!sameNamespace || input.role_id !== approle.roleId || input.secret_id !== approle.secretId) {
        return errors(400, ['invalid role or secret ID']);
      }
      const ttl = approle.tokenTtlSeconds ?? 3600;
      const token = `hvs.${randomBytes(18).toString('base64url')}`;
      tokens.set(token, { namespace, expiresAt: now().getTime() + ttl * 1000 });
      return envelope(null, {
        client_token: token,
        accessor: randomBytes(12).toString('hex'),
        policies: ['default', 'keyledger'],
        token_policies: ['default', 'keyledger'],
        metadata: { role_name: 'keyledger' },
        lease_duration: ttl,
        renewable: true,
        entity_id: randomUUID(),
        token_type: 'service',
        orphan: true,
      });
    }
    const token = header(headers, 'x-vault-token') ?? bearer(header(headers, 'authorization'));
    if (!authorised(token, namespace)) return errors(403, ['permission denied']);

    const match = /^([^/]+)\/(data|metadata|delete|destroy)\/(.+?)\/?$/.exec(route);
    if (!match || !mounts.has(match[1]!)) {
      return errors(404, [`no handler for route "${route}". route entry not found.`]);
    }
    const [, mount, kind, secretPath] = match as unknown as [string, string, string, string];
    const engine = engineFor(namespace, mount);
    const write = method === 'POST' || method === 'PUT';
    try {
      if (kind === 'data' && method === 'GET') return envelope(engine.read(secretPath, query.get('version')));
      if (kind === 'data' && write) return envelope(engine.write(secretPath, body));
      if (kind === 'data' && method === 'DELETE') {
        engine.deleteLatest(secretPath);
        return { status: 204 };
      }
      if (kind === 'metadata' && method === 'GET') return envelope(engine.readMetadata(secretPath));
      if (kind === 'metadata' && write) {
        engine.writeMetadata(secretPath, body);
        return { status: 204 };
      }
      if (kind === 'metadata' && method === 'DELETE') {
        engine.deleteMetadata(secretPath);
        return { status: 204 };
      }
      if (kind === 'destroy' && write) {
        engine.destroy(secretPath, body);
        return { status: 204 };
      }
    } catch (error) {
      if (error instanceof VaultKvError) {
        return error.body !== undefined ? { status: error.status, body: error.body } : errors(error.status, error.errors);
      }
      throw error;
    }
    return errors(405, ['unsupported operation']);
  };

  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://vault');
      const method = (req.method ?? 'GET').toUpperCase();
      let answer: Answer;
      if (!url.pathname.startsWith('/v1/')) {
        answer = errors(404, []);
      } else {
        const route = url.pathname.slice('/v1/'.length).split('/').map(decodeURIComponent).join('/');
        counts.set(`${method} ${route}`, (counts.get(`${method} ${route}`) ?? 0) + 1);
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text.trim() === '' ? undefined : JSON.parse(text);
        } catch {
          body = Symbol.for('unparseable');
        }
        answer =
          body === Symbol.for('unparseable') ? errors(400, ['error parsing JSON']) : handle(method, route, url.searchParams, req.headers, body);
      }
      const payload = answer.body === undefined ? undefined : JSON.stringify(answer.body);
      res.writeHead(answer.status, payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
      res.end(payload);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}`,
    rootToken,
    expireTokens: () => {
      for (const [token, entry] of tokens) if (entry.expiresAt !== null) tokens.delete(token);
    },
    requestCounts: () => Object.fromEntries(counts),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

interface Answer {
  status: number;
  body?: unknown;
}

function envelope(data: unknown, auth: unknown = null): Answer {
  return {
    status: 200,
    body: { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth, mount_type: auth ? '' : 'kv' },
  };
}

function errors(status: number, list: string[]): Answer {
  return { status, body: { errors: list } };
}

function header(headers: IncomingMessage['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearer(value: string | undefined): string | undefined {
  return value?.startsWith('Bearer ') ? value.slice('Bearer '.length) : undefined;
}

function normaliseNamespace(value: string | undefined): string {
  return (value ?? '').replace(/^\/+|\/+$/g, '');
}
