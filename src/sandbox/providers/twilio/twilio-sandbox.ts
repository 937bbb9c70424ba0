// A local Twilio REST API (2010-04-01) for API keys: `Accounts.json`, `Accounts/{Sid}.json`,
// `Accounts/{Sid}/Keys.json` (form-encoded create, paged list) and `Keys/{KeySid}.json` (fetch, delete), HTTP basic
// authentication with AccountSid:AuthToken or KeySid:secret, Twilio's error bodies (`{code, message, more_info,
// status}`, 20003/20404/20429), RFC 2822 dates, and Monitor events (`api-key.created` / `api-key.deleted`) as the
// audit log. Twilio records no last use of a key, and neither does this sandbox.
// Key types: keys created over the API are Standard — they cannot read or manage the Accounts and Keys resources
// (403); the Main key kind exists only in the Console, so the sandbox's loaded `main` keys stand for those.
import type { Clock } from '../../../runtime/clock.js';
import { systemClock } from '../../../runtime/clock.js';
import { SandboxPathRouter } from '../../sandbox-path-router.js';
import type { SandboxSeed } from '../../sandbox-seed.js';
import type { SandboxAnswer, SandboxProvider, SandboxRequest, SandboxRouteMatch } from '../../sandbox-server.js';
import { generateTwilioKeySecret, generateTwilioSid } from './twilio-key-format.js';

const API = '/2010-04-01';
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

export interface TwilioSandboxOptions {
  clock?: Clock;
}

interface TwilioAccount {
  sid: string;
  friendlyName: string;
  authToken: string;
  ownerSid: string;
  createdAt: Date;
}

interface TwilioKey {
  sid: string;
  accountSid: string;
  friendlyName: string;
  secret: string;
  main: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A Monitor event (`GET https://monitor.twilio.com/v1/Events`) as Twilio writes it. */
export interface TwilioMonitorEvent {
  sid: string;
  account_sid: string;
  actor_sid: string;
  actor_type: 'account' | 'api-key';
  description: string | null;
  event_data: Record<string, unknown>;
  event_date: string;
  event_type: string;
  resource_sid: string;
  resource_type: 'api-key';
  source: 'api';
  source_ip_address: string;
  url: string;
}

type Caller = { account: TwilioAccount; key?: TwilioKey };

export class TwilioSandbox implements SandboxProvider {
  readonly name = 'twilio';
  /** The adapter's credentials: the main account's SID and auth token. */
  readonly accountSid: string;
  readonly authToken: string;
  readonly #clock: Clock;
  readonly #router = new SandboxPathRouter();
  readonly #accounts = new Map<string, TwilioAccount>();
  readonly #keys = new Map<string, TwilioKey>();
  readonly #events: TwilioMonitorEvent[] = [];

  constructor(options: TwilioSandboxOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    const main = this.#addAccount('keyledger main account', undefined);
    this.accountSid = main.sid;
    this.authToken = main.authToken;
    const r = this.#router;
    r.add('GET', `${API}/Accounts.json`, 'twilio:GET /Accounts.json', (req) => this.#listAccounts(req));
    r.add('GET', `${API}/Accounts/:file`, 'twilio:GET /Accounts/{Sid}.json', (req, p) =>
      this.#fetchAccount(req, jsonSid(p.file!)),
    );
    r.add('GET', `${API}/Accounts/:account/Keys.json`, 'twilio:GET /Accounts/{Sid}/Keys.json', (req, p) =>
      this.#listKeys(req, p.account!),
    );
    r.add('POST', `${API}/Accounts/:account/Keys.json`, 'twilio:POST /Accounts/{Sid}/Keys.json', (req, p) =>
      this.#createKey(req, p.account!),
    );
    r.add('GET', `${API}/Accounts/:account/Keys/:file`, 'twilio:GET /Accounts/{Sid}/Keys/{Sid}.json', (req, p) =>
      this.#fetchKey(req, p.account!, jsonSid(p.file!)),
    );
    r.add('DELETE', `${API}/Accounts/:account/Keys/:file`, 'twilio:DELETE /Accounts/{Sid}/Keys/{Sid}.json', (req, p) =>
      this.#deleteKey(req, p.account!, jsonSid(p.file!)),
    );
  }

  /** Organisation keys name their own account SIDs: each becomes a subaccount of the main account. */
  load(seed: SandboxSeed): void {
    for (const seeded of seed.keys) {
      if (seeded.provider !== this.name || seeded.status !== 'active') continue;
      if (!this.#accounts.has(seeded.account)) {
        this.#accounts.set(seeded.account, {
          sid: seeded.account,
          friendlyName: `Subaccount ${seeded.account.slice(-6)}`,
          authToken: generateTwilioKeySecret(Math.random),
          ownerSid: this.accountSid,
          createdAt: new Date(seeded.createdAt),
        });
      }
      this.#keys.set(seeded.providerKeyId, {
        sid: seeded.providerKeyId,
        accountSid: seeded.account,
        friendlyName: seeded.name,
        secret: seeded.secret,
        main: seeded.permissions.includes('main'),
        createdAt: new Date(seeded.createdAt),
        updatedAt: new Date(seeded.createdAt),
      });
    }
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    return this.#router.match(request);
  }

  notFound(request: SandboxRequest): SandboxAnswer {
    return error(404, 20404, `The requested resource ${request.path} was not found`);
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const answer = error(status ?? 429, 20429, 'Too Many Requests');
    return { ...answer, headers: { ...answer.headers, 'retry-after': retryAfter } };
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return error(status, 20500, `Internal Server Error${echo ? ` (credentials ${echo})` : ''}`);
  }

  callerSecret(request: SandboxRequest): string | undefined {
    return basic(request)?.password;
  }

  /** Twilio's concurrency and request limits apply per account. */
  rateLimitKey(request: SandboxRequest): string {
    return basic(request)?.user ?? request.remoteAddress;
  }

  auditLog(): TwilioMonitorEvent[] {
    return [...this.#events];
  }

  groundTruth(): unknown {
    return {
      accounts: [...this.#accounts.values()].map((a) => ({
        sid: a.sid,
        friendlyName: a.friendlyName,
        owner: a.ownerSid,
      })),
      keys: [...this.#keys.values()].map((k) => ({ sid: k.sid, account: k.accountSid, friendlyName: k.friendlyName })),
    };
  }

  #addAccount(friendlyName: string, ownerSid: string | undefined): TwilioAccount {
    const sid = generateTwilioSid('AC', Math.random);
    const account = {
      sid,
      friendlyName,
      authToken: generateTwilioKeySecret(Math.random).toLowerCase(),
      ownerSid: ownerSid ?? sid,
      createdAt: this.#clock(),
    };
    this.#accounts.set(sid, account);
    return account;
  }

  /** Basic auth with AccountSid:AuthToken, or KeySid:secret of a key of that account. */
  #authenticate(request: SandboxRequest): Caller | SandboxAnswer {
    const credentials = basic(request);
    const refused = {
      ...error(401, 20003, 'Authenticate'),
      headers: { 'www-authenticate': 'Basic realm="Twilio API"' },
    };
    if (!credentials) return refused;
    const account = this.#accounts.get(credentials.user);
    if (account) return account.authToken === credentials.password ? { account } : refused;
    const key = this.#keys.get(credentials.user);
    if (!key || key.secret !== credentials.password) return refused;
    return { account: this.#accounts.get(key.accountSid)!, key };
  }

  /** The Accounts and Keys resources need account credentials or a Main key; Standard keys get 403. */
  #manager(request: SandboxRequest, accountSid: string): Caller | SandboxAnswer {
    const caller = this.#authenticate(request);
    if ('status' in caller) return caller;
    if (caller.key && !caller.key.main) {
      return error(403, 20003, 'Standard API keys cannot access the Accounts or Keys resources; use a Main key');
    }
    const target = this.#accounts.get(accountSid);
    // The credentials of an account reach that account and its subaccounts, nothing else.
    if (!target || (target.sid !== caller.account.sid && target.ownerSid !== caller.account.sid)) {
      return this.notFound(request);
    }
    return caller;
  }

  #listAccounts(request: SandboxRequest): SandboxAnswer {
    const caller = this.#manager(request, this.#authenticatedAccount(request));
    if ('status' in caller) return caller;
    const accounts = [...this.#accounts.values()].filter(
      (a) => a.sid === caller.account.sid || a.ownerSid === caller.account.sid,
    );
    return this.#page(
      request,
      `${API}/Accounts.json`,
      'accounts',
      accounts.map((a) => this.#accountJson(a)),
    );
  }

  #authenticatedAccount(request: SandboxRequest): string {
    const user = basic(request)?.user ?? '';
    return this.#keys.get(user)?.accountSid ?? user;
  }

  #fetchAccount(request: SandboxRequest, sid: string): SandboxAnswer {
    const caller = this.#manager(request, sid);
    if ('status' in caller) return caller;
    return { status: 200, body: this.#accountJson(this.#accounts.get(sid)!) };
  }

  #listKeys(request: SandboxRequest, accountSid: string): SandboxAnswer {
    const caller = this.#manager(request, accountSid);
    if ('status' in caller) return caller;
    const keys = [...this.#keys.values()].filter((k) => k.accountSid === accountSid);
    return this.#page(
      request,
      `${API}/Accounts/${accountSid}/Keys.json`,
      'keys',
      keys.map((k) => this.#keyJson(k)),
    );
  }

  #createKey(request: SandboxRequest, accountSid: string): SandboxAnswer {
    const caller = this.#manager(request, accountSid);
    if ('status' in caller) return caller;
    const type = String(request.headers['content-type'] ?? '');
    if (request.text !== '' && !type.startsWith('application/x-www-form-urlencoded')) {
      return error(400, 20001, 'Request body must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(request.text);
    const friendlyName = form.get('FriendlyName') ?? '';
    if (friendlyName.length > 64) return error(400, 21617, 'FriendlyName must be at most 64 characters');
    const now = this.#clock();
    const key: TwilioKey = {
      sid: generateTwilioSid('SK', Math.random),
      accountSid,
      friendlyName,
      secret: generateTwilioKeySecret(Math.random),
      main: false,
      createdAt: now,
      updatedAt: now,
    };
    this.#keys.set(key.sid, key);
    this.#event(request, caller, key, 'api-key.created');
    return { status: 201, body: { ...this.#keyJson(key), secret: key.secret } };
  }

  #fetchKey(request: SandboxRequest, accountSid: string, sid: string): SandboxAnswer {
    const caller = this.#manager(request, accountSid);
    if ('status' in caller) return caller;
    const key = this.#keys.get(sid);
    if (!key || key.accountSid !== accountSid) return this.notFound(request);
    return { status: 200, body: this.#keyJson(key) };
  }

  #deleteKey(request: SandboxRequest, accountSid: string, sid: string): SandboxAnswer {
    const caller = this.#manager(request, accountSid);
    if ('status' in caller) return caller;
    const key = this.#keys.get(sid);
    if (!key || key.accountSid !== accountSid) return this.notFound(request);
    this.#keys.delete(sid);
    this.#event(request, caller, key, 'api-key.deleted');
    return { status: 204 };
  }

  #page(request: SandboxRequest, uri: string, field: string, items: unknown[]): SandboxAnswer {
    const size = Number(request.query.get('PageSize') ?? DEFAULT_PAGE_SIZE);
    const page = Number(request.query.get('Page') ?? 0);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      return error(400, 20001, `PageSize must be between 1 and ${MAX_PAGE_SIZE}`);
    }
    const start = page * size;
    const slice = items.slice(start, start + size);
    const pageUri = (n: number) => `${uri}?PageSize=${size}&Page=${n}`;
    const more = start + size < items.length;
    return {
      status: 200,
      body: {
        [field]: slice,
        first_page_uri: pageUri(0),
        next_page_uri: more ? `${pageUri(page + 1)}&PageToken=PA${page + 1}` : null,
        previous_page_uri: page > 0 ? pageUri(page - 1) : null,
        page,
        page_size: size,
        start,
        end: start + Math.max(0, slice.length - 1),
        uri: pageUri(page),
      },
    };
  }

  #accountJson(account: TwilioAccount) {
    return {
      sid: account.sid,
      owner_account_sid: account.ownerSid,
      friendly_name: account.friendlyName,
      status: 'active',
      type: 'Full',
      date_created: rfc2822(account.createdAt),
      date_updated: rfc2822(account.createdAt),
      uri: `${API}/Accounts/${account.sid}.json`,
    };
  }

  #keyJson(key: TwilioKey) {
    return {
      sid: key.sid,
      friendly_name: key.friendlyName,
      date_created: rfc2822(key.createdAt),
      date_updated: rfc2822(key.updatedAt),
    };
  }

  #event(request: SandboxRequest, caller: Caller, key: TwilioKey, type: 'api-key.created' | 'api-key.deleted'): void {
    const sid = generateTwilioSid('AE', Math.random);
    this.#events.push({
      sid,
      account_sid: key.accountSid,
      actor_sid: caller.key?.sid ?? caller.account.sid,
      actor_type: caller.key ? 'api-key' : 'account',
      description: null,
      event_data: { friendly_name: key.friendlyName },
      event_date: this.#clock()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      event_type: type,
      resource_sid: key.sid,
      resource_type: 'api-key',
      source: 'api',
      source_ip_address: request.remoteAddress.replace(/^::ffff:/, ''),
      url: `https://monitor.twilio.com/v1/Events/${sid}`,
    });
  }
}

function error(status: number, code: number, message: string): SandboxAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

function jsonSid(file: string): string {
  return file.endsWith('.json') ? file.slice(0, -'.json'.length) : file;
}

/** Twilio writes dates as RFC 2822: `Mon, 13 Jun 2016 22:50:08 +0000`. */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function basic(request: SandboxRequest): { user: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(request.headers.authorization?.trim() ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) return undefined;
  return { user: decoded.slice(0, separator), password: decoded.slice(separator + 1) };
}
