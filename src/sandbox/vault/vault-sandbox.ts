// A local server speaking HashiCorp Vault's HTTP API for what keyledger uses: KV version 2 (data, metadata,
// delete, destroy) under `/v1/<mount>/`, token auth (`X-Vault-Token`), AppRole login, and Enterprise namespaces
// (`X-Vault-Namespace`), answering with Vault's status codes and `{"errors": [...]}` bodies. It plugs into the
// shared sandbox server, so faults, rate limits and request counts work as for every provider. The Vault adapter
// knows it only by its URL.
import { randomBytes, randomUUID } from 'node:crypto';
import { bearerToken } from '../sandbox-credentials.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../sandbox-server.js';
import { SandboxServer } from '../sandbox-server.js';
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
  /** Requests per operation since start, e.g. `vault:POST auth/approle/login`, `vault:GET secret/metadata`. */
  requestCounts(): Record<string, number>;
  provider: VaultSandboxProvider;
  server: SandboxServer;
  close(): Promise<void>;
}

interface TokenEntry {
  namespace: string;
  expiresAt: number | null;
}

const UNPARSEABLE = Symbol('unparseable');

export class VaultSandboxProvider implements SandboxProvider {
  readonly name = 'vault';
  readonly rootToken: string;
  readonly #options: VaultSandboxOptions;
  readonly #now: () => Date;
  readonly #mounts: Set<string>;
  readonly #tokens = new Map<string, TokenEntry>();
  readonly #engines = new Map<string, VaultKvEngine>();
  readonly #audit: Array<{ time: string; operation: string; namespace: string; status: number }> = [];

  constructor(options: VaultSandboxOptions = {}) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#mounts = new Set(options.mounts ?? ['secret']);
    this.rootToken = options.rootToken ?? `hvs.root${randomBytes(12).toString('hex')}`;
    this.#tokens.set(this.rootToken, { namespace: '', expiresAt: null });
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    if (!request.path.startsWith('/v1/')) return undefined;
    const route = request.path.slice('/v1/'.length).split('/').map(decodeURIComponent).join('/');
    const kv = /^([^/]+)\/(data|metadata|delete|destroy)\//.exec(route);
    const name = kv ? `${kv[1]}/${kv[2]}` : route;
    return { operation: `vault:${request.method} ${name}`, handle: () => this.#handle(request, route) };
  }

  notFound(): SandboxAnswer {
    return errors(404, []);
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const answer = errors(status ?? 429, ['request path: rate limit quota exceeded']);
    answer.headers = { ...answer.headers, 'retry-after': retryAfter };
    return answer;
  }

  failure(status: number, echo?: string): SandboxAnswer {
    const text = status === 503 ? 'Vault is sealed' : 'internal error';
    return errors(status, [echo ? `${text} (token ${echo})` : text]);
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return header(request, 'x-vault-token');
  }

  auditLog(): unknown {
    return [...this.#audit];
  }

  groundTruth(): unknown {
    return { engines: [...this.#engines.keys()].map((key) => key.replace('\u0000', ' ')), tokens: this.#tokens.size };
  }

  /** Expires every token but the root token. */
  expireTokens(): void {
    for (const [token, entry] of this.#tokens) if (entry.expiresAt !== null) this.#tokens.delete(token);
  }

  #handle(request: SandboxRequest, route: string): SandboxAnswer {
    const namespace = normaliseNamespace(header(request, 'x-vault-namespace'));
    let body: unknown;
    try {
      body = request.text.trim() === '' ? undefined : JSON.parse(request.text);
    } catch {
      body = UNPARSEABLE;
    }
    const answer =
      body === UNPARSEABLE ? errors(400, ['error parsing JSON']) : this.#route(request, route, namespace, body);
    this.#audit.push({
      time: this.#now().toISOString(),
      operation: `${request.method} ${route}`,
      namespace,
      status: answer.status,
    });
    return answer;
  }

  #route(request: SandboxRequest, route: string, namespace: string, body: unknown): SandboxAnswer {
    const method = request.method;
    const write = method === 'POST' || method === 'PUT';
    if (method === 'GET' && route === 'sys/health') {
      return json(200, {
        initialized: true,
        sealed: false,
        standby: false,
        version: '1.17.0-sandbox',
        server_time_utc: Math.floor(this.#now().getTime() / 1000),
      });
    }
    const approle = this.#options.approle;
    if (approle && write && route === `auth/${approle.mount ?? 'approle'}/login`)
      return this.#login(approle, namespace, body);

    const token = header(request, 'x-vault-token') ?? bearerToken(request);
    if (!this.#authorised(token, namespace)) return errors(403, ['permission denied']);

    const listing = /^([^/]+)\/metadata(?:\/(.*))?$/.exec(route);
    if (listing && this.#mounts.has(listing[1]!) && isList(request)) {
      try {
        return envelope({ keys: this.#engine(namespace, listing[1]!).list(listing[2] ?? '') });
      } catch (error) {
        if (error instanceof VaultKvError) return errors(error.status, error.errors);
        throw error;
      }
    }
    const match = /^([^/]+)\/(data|metadata|delete|destroy)\/(.+?)\/?$/.exec(route);
    if (!match || !this.#mounts.has(match[1]!))
      return errors(404, [`no handler for route "${route}". route entry not found.`]);
    const [, mount, kind, secretPath] = match as unknown as [string, string, string, string];
    const engine = this.#engine(namespace, mount);
    try {
      if (kind === 'data' && method === 'GET') return envelope(engine.read(secretPath, request.query.get('version')));
      if (kind === 'data' && write) return envelope(engine.write(secretPath, body));
      if (kind === 'data' && method === 'DELETE') return noContent(() => engine.deleteLatest(secretPath));
      if (kind === 'metadata' && method === 'GET') return envelope(engine.readMetadata(secretPath));
      if (kind === 'metadata' && write) return noContent(() => engine.writeMetadata(secretPath, body));
      if (kind === 'metadata' && method === 'DELETE') return noContent(() => engine.deleteMetadata(secretPath));
      if (kind === 'destroy' && write) return noContent(() => engine.destroy(secretPath, body));
    } catch (error) {
      if (error instanceof VaultKvError)
        return error.body !== undefined ? json(error.status, error.body) : errors(error.status, error.errors);
      throw error;
    }
    return errors(405, ['unsupported operation']);
  }

  #login(approle: VaultSandboxAppRole, namespace: string, body: unknown): SandboxAnswer {
    const input = (body ?? {}) as Record<string, unknown>;
    if (typeof input.role_id !== 'string' || input.role_id === '') return errors(400, ['missing role_id']);
    const sameNamespace = normaliseNamespace(approle.namespace) === namespace;
    if (!sameNamespace || input.role_id !== approle.roleId || input.secret_id !== approle.secretId) {
      return errors(400, ['invalid role or secret ID']);
    }
    const ttl = approle.tokenTtlSeconds ?? 3600;
    const token = `hvs.${randomBytes(18).toString('base64url')}`;
    this.#tokens.set(token, { namespace, expiresAt: this.#now().getTime() + ttl * 1000 });
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

  #authorised(token: string | undefined, namespace: string): boolean {
    if (!token) return false;
    const entry = this.#tokens.get(token);
    if (!entry) return false;
    if (entry.expiresAt !== null && entry.expiresAt <= this.#now().getTime()) {
      this.#tokens.delete(token);
      return false;
    }
    // A token reaches its own namespace and those beneath it.
    return entry.namespace === '' || namespace === entry.namespace || namespace.startsWith(`${entry.namespace}/`);
  }

  #engine(namespace: string, mount: string): VaultKvEngine {
    const key = `${namespace}\u0000${mount}`;
    let engine = this.#engines.get(key);
    if (!engine) {
      const maxVersions = this.#options.maxVersions;
      engine = new VaultKvEngine({ now: this.#now, ...(maxVersions !== undefined ? { maxVersions } : {}) });
      this.#engines.set(key, engine);
    }
    return engine;
  }
}

export async function startVaultSandbox(options: VaultSandboxOptions = {}): Promise<VaultSandbox> {
  const provider = new VaultSandboxProvider(options);
  const server = new SandboxServer(provider, {
    rateLimit: null,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
  });
  const url = await server.start();
  return {
    url,
    rootToken: provider.rootToken,
    expireTokens: () => provider.expireTokens(),
    requestCounts: () => server.requestCounts(),
    provider,
    server,
    close: () => server.stop(),
  };
}

function json(status: number, body: unknown): SandboxAnswer {
  return { status, headers: { 'content-type': 'application/json' }, body };
}

function envelope(data: unknown, auth: unknown = null): SandboxAnswer {
  return json(200, {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth,
    mount_type: auth ? '' : 'kv',
  });
}

function noContent(action: () => void): SandboxAnswer {
  action();
  return { status: 204 };
}

function errors(status: number, list: string[]): SandboxAnswer {
  return json(status, { errors: list });
}

function header(request: SandboxRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function normaliseNamespace(value: string | undefined): string {
  return (value ?? '').replace(/^\/+|\/+$/g, '');
}

/** Vault takes a listing as the `LIST` verb or as `GET` with `?list=true` (Node's HTTP parser knows no `LIST`). */
function isList(request: SandboxRequest): boolean {
  return request.method === 'LIST' || (request.method === 'GET' && request.query.get('list') === 'true');
}
