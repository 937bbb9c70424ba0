// A sandbox consumer: a small service that uses keys the way an application does — it reloads each key from its
// secret store, calls the provider with it all the time, and records every call that no key it holds could make.
// It serves the probe a rotation asks (which version do you use?) and a code-path check (does the new key do what
// the application needs, here: carry its required permissions?). Tests and the crash test count its failures.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Provider } from '../../providers/provider.js';
import type { SecretStore, StoredSecret } from '../../secrets/secret-store.js';

export interface ConsumedKey {
  keyId: string;
  store: SecretStore;
  path: string;
  provider: Provider;
  account?: string;
  /** Permissions the application's code path needs; a key without them fails the check and real calls. */
  requiredPermissions?: string[];
  /**
   * False for a key the application holds but does not call with (a key unused for months stays unused at its
   * provider, so its last use keeps telling the truth); it is still reloaded and reported. Default true.
   */
  use?: boolean;
}

export interface ConsumerSandboxOptions {
  keys: ConsumedKey[];
  /** How often each key is reloaded from its store. */
  refreshMs?: number;
  /** How often each key is used. */
  callMs?: number;
  /**
   * Reload a key from its store when asked which version it uses (as a service that re-reads its secret per
   * request does): a rotation's probe is answered at once, without every key being reloaded every `refreshMs`.
   */
  reloadOnProbe?: boolean;
}

export interface ConsumerFailure {
  keyId: string;
  at: string;
  reason: string;
  /** The versions the consumer held when the call failed (ids only), e.g. `primary 1 (pk 17), fallback none`. */
  held: string;
}

export interface ConsumerStats {
  calls: number;
  /** Calls where the newest key failed and the one held before it worked (a rotation in flight). */
  fallbacks: number;
  /** Calls no held key could make: the consumer was without a working key. */
  failures: number;
  failureLog: ConsumerFailure[];
}

interface HeldVersion {
  /** The store path it was read from. */
  path: string;
  versionId: string;
  providerKeyId: string;
  secret: StoredSecret['value'];
}

interface KeyState {
  config: ConsumedKey;
  primary?: HeldVersion;
  fallback?: HeldVersion;
  /** A frozen consumer stops reloading (a service that never picks up new secrets). */
  frozen: boolean;
  /** The reload in flight: reloads of one key run one after another (see #refresh). */
  reloading?: Promise<void>;
}

export class ConsumerSandbox {
  readonly #keys = new Map<string, KeyState>();
  readonly #refreshMs: number;
  readonly #callMs: number;
  readonly #reloadOnProbe: boolean;
  readonly #stats: ConsumerStats = { calls: 0, fallbacks: 0, failures: 0, failureLog: [] };
  readonly #permissionCache = new Map<string, string[]>();
  readonly #server: Server;
  #timers: NodeJS.Timeout[] = [];
  #url: string | undefined;
  #stopped = false;
  #busy = new Map<string, Promise<void>>();

  constructor(options: ConsumerSandboxOptions) {
    for (const key of options.keys) this.#keys.set(key.keyId, { config: key, frozen: false });
    this.#refreshMs = options.refreshMs ?? 50;
    this.#callMs = options.callMs ?? 50;
    this.#reloadOnProbe = options.reloadOnProbe ?? false;
    this.#server = createServer((req, res) => {
      this.#serve(req, res).catch((error: unknown) => send(res, 500, { error: (error as Error).message }));
    });
  }

  get url(): string {
    if (!this.#url) throw new Error('the consumer sandbox is not started');
    return this.#url;
  }

  /** The probe settings a registry entry names for this consumer and key. */
  probeFor(keyId: string): { kind: 'http'; url: string; check_url: string } {
    return {
      kind: 'http',
      url: `${this.url}/keys/${encodeURIComponent(keyId)}/version`,
      check_url: `${this.url}/keys/${encodeURIComponent(keyId)}/check`,
    };
  }

  /** Where `keyledger split` re-points this consumer's copy of `keyId` (a probe's `move_url`). */
  moveUrlFor(keyId: string): string {
    return `${this.url}/keys/${encodeURIComponent(keyId)}/move`;
  }

  /** Listens on 127.0.0.1 (`port`, or a free one). */
  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    await Promise.all([...this.#keys.values()].map((state) => this.#refresh(state)));
    this.#timers.push(setInterval(() => this.#tick('refresh', (state) => this.#refresh(state)), this.#refreshMs));
    this.#timers.push(setInterval(() => this.#tick('call', (state) => this.#call(state)), this.#callMs));
    return this.#url;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    // The call or reload in flight finishes first: the servers it talks to are stopped after the consumer.
    await Promise.all(this.#busy.values());
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  stats(): ConsumerStats {
    return { ...this.#stats, failureLog: [...this.#stats.failureLog] };
  }

  /** Adds a key to consume (after the consumer started). */
  async add(key: ConsumedKey): Promise<void> {
    const state: KeyState = { config: key, frozen: false };
    this.#keys.set(key.keyId, state);
    // A store that does not answer now is asked again at the next reload (or probe): the key is held from then on.
    await this.#refresh(state).catch(() => undefined);
  }

  setFrozen(keyId: string, frozen: boolean): void {
    const state = this.#keys.get(keyId);
    if (state) state.frozen = frozen;
  }

  /** Uses every key once now (tests call it to check a state without waiting for the timer). */
  async callAll(): Promise<void> {
    for (const state of this.#keys.values()) await this.#call(state);
  }

  #tick(kind: string, work: (state: KeyState) => Promise<void>): void {
    if (this.#stopped || this.#busy.has(kind)) return;
    const run = (async () => {
      for (const state of this.#keys.values()) {
        if (this.#stopped) return;
        await work(state).catch(() => undefined);
      }
    })().finally(() => this.#busy.delete(kind));
    this.#busy.set(kind, run);
  }

  // The newest staged version is the one to use: pending during a rotation (this consumer loads new keys early and
  // keeps the one before as a fallback), current otherwise (a rolled-back pending falls away on the next reload).
  //
  // One reload at a time per key, as a service has one loader per secret: the periodic reload and a probe's reload
  // overlapping could otherwise finish out of order — the periodic one reads "no pending" before a rotation stages
  // its key and "current = the old key" after the probe's reload took the new one, and puts the old key back in
  // front. The consumer would then answer the next probe with a version it left, which no real loader does.
  #refresh(state: KeyState): Promise<void> {
    const next = (state.reloading ?? Promise.resolve()).catch(() => undefined).then(() => this.#reload(state));
    state.reloading = next;
    return next;
  }

  async #reload(state: KeyState): Promise<void> {
    if (state.frozen) return;
    const { store, path } = state.config;
    const newest = (await store.get(path, 'pending')) ?? (await store.get(path, 'current'));
    // Version ids count per path (after a move both secrets may be version 1): a held version is its path and id.
    if (!newest || (newest.versionId === state.primary?.versionId && path === state.primary.path)) return;
    state.fallback = state.primary;
    state.primary = {
      path,
      versionId: newest.versionId,
      providerKeyId: newest.metadata.provider_key_id ?? '',
      secret: newest.value,
    };
  }

  async #call(state: KeyState): Promise<void> {
    // The keys held when the call starts: a reload during the call must not make it try a key it never held.
    const { primary, fallback } = state;
    if (!primary || state.config.use === false) return;
    this.#stats.calls += 1;
    const first = await this.#works(state.config, primary);
    if (first.ok) return;
    if (fallback && (await this.#works(state.config, fallback)).ok) {
      this.#stats.fallbacks += 1;
      return;
    }
    this.#stats.failures += 1;
    if (this.#stats.failureLog.length < 1000) {
      this.#stats.failureLog.push({
        keyId: state.config.keyId,
        at: new Date().toISOString(),
        reason: first.reason,
        held: `primary ${describe(primary)}, fallback ${fallback ? describe(fallback) : 'none'}`,
      });
    }
  }

  /** The application's code path: the provider accepts the key, and the key carries the permissions it needs. */
  async #works(config: ConsumedKey, held: HeldVersion): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      const result = await config.provider.verify(held.secret, {
        providerKeyId: held.providerKeyId,
        ...(config.account ? { account: config.account } : {}),
      });
      if (!result.valid)
        return { ok: false, reason: `provider refused version ${held.versionId}: ${result.reason ?? 'invalid'}` };
      const required = config.requiredPermissions ?? [];
      if (required.length === 0) return { ok: true };
      const granted = await this.#permissions(config, result.providerKeyId ?? held.providerKeyId);
      const missing = required.filter((permission) => !granted.includes(permission));
      return missing.length
        ? { ok: false, reason: `version ${held.versionId} lacks ${missing.join(', ')}` }
        : { ok: true };
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
  }

  async #permissions(config: ConsumedKey, providerKeyId: string): Promise<string[]> {
    const cached = this.#permissionCache.get(providerKeyId);
    if (cached) return cached;
    for await (const key of config.provider.list(config.account ? { account: config.account } : {})) {
      if (key.permissions) this.#permissionCache.set(key.providerKeyId, key.permissions);
    }
    return this.#permissionCache.get(providerKeyId) ?? [];
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://consumer');
    const body = await readBody(req);
    if (req.method === 'GET' && url.pathname === '/__sandbox/calls') return send(res, 200, this.stats());
    const match = /^\/keys\/([^/]+)\/(version|check|freeze|move)$/.exec(url.pathname);
    const state = match ? this.#keys.get(decodeURIComponent(match[1]!)) : undefined;
    if (!match || !state) return send(res, 404, { error: 'no such key or route' });
    if (req.method === 'GET' && match[2] === 'version') {
      if (this.#reloadOnProbe) await this.#refresh(state);
      return send(res, 200, {
        key_id: state.config.keyId,
        version_id: state.primary?.versionId ?? null,
        provider_key_id: state.primary?.providerKeyId ?? null,
      });
    }
    if (req.method === 'POST' && match[2] === 'move') {
      // A deployment re-pointed at another secret (`keyledger split` moving a team to its own key): the service
      // reads the new path from now on and keeps the key it held as its fallback until the new one is loaded.
      const input = JSON.parse(body || '{}') as { path?: unknown };
      if (typeof input.path !== 'string' || input.path === '') return send(res, 400, { error: 'path is required' });
      state.config = { ...state.config, path: input.path };
      await this.#refresh(state);
      return send(res, 200, {
        key_id: state.config.keyId,
        path: input.path,
        version_id: state.primary?.versionId ?? null,
      });
    }
    if (req.method === 'POST' && match[2] === 'freeze') {
      state.frozen = (JSON.parse(body || '{}') as { frozen?: boolean }).frozen !== false;
      return send(res, 200, { frozen: state.frozen });
    }
    if (req.method === 'POST' && match[2] === 'check') {
      // Runs the code path with the version the rotation names (its pending version), not with what is held.
      const wanted = (JSON.parse(body || '{}') as { version_id?: string }).version_id;
      const pending = await state.config.store.get(state.config.path, 'pending');
      const version = pending && (!wanted || pending.versionId === wanted) ? pending : undefined;
      if (!version) return send(res, 409, { ok: false, reason: `no pending version ${wanted ?? ''} to check` });
      const result = await this.#works(state.config, {
        path: state.config.path,
        versionId: version.versionId,
        providerKeyId: version.metadata.provider_key_id ?? '',
        secret: version.value,
      });
      return result.ok ? send(res, 200, { ok: true }) : send(res, 422, { ok: false, reason: result.reason });
    }
    send(res, 405, { error: 'method not allowed' });
  }
}

function describe(held: HeldVersion): string {
  return `${held.versionId} (${held.providerKeyId || 'no provider key id'})`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
