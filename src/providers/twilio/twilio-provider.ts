// The Twilio adapter, on the official SDK (`twilio`): API keys of an account and its subaccounts — create
// (`api.v2010.accounts(sid).keys.create`, the secret is shown once), list (`keys.page` then `page.nextPage()`, the
// SDK following `next_page_uri`), delete (`keys(sid).remove()`) — and verify by fetching the account
// (`accounts(sid).fetch()`) with a client authenticated as the key itself (KeySid:secret). Twilio records no last
// use of a key: capabilities say so. The SDK talks through our `httpClient` (a subclass of its RequestClient, the
// documented extension point): it points the SDK's URLs at `baseUrl`, keeps the answer of a refused call (the SDK's
// RestException drops its headers, so Retry-After would be lost) and owns the sockets close() releases. The SDK's
// 429 auto-retry is off and it never retries otherwise; ours apply, through SdkCaller.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpAgent } from 'node:http';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type TwilioResponseModule from 'twilio/lib/http/response.js';
import { ProviderError } from '../../errors/provider-error.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { type HttpAnswer, type ProviderErrorBody, transportError } from '../http/provider-http-client.js';
import { type SdkCaller, sdkAnswer, transportErrorOfChain } from '../http/sdk-caller.js';
import type { CreatedKey, CreateKeyRequest, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import type { ProviderContext } from '../provider-context.js';
import { twilioProviderRegistration } from './index.js';
import { TWILIO_ERROR_TOO_MANY_REQUESTS, TWILIO_PAGE_SIZE, TWILIO_PROVIDER_NAME } from './twilio-constants.js';
import {
  type TwilioOptions,
  type TwilioOptionsInput,
  twilioAccountSidSchema,
  twilioErrorSchema,
  twilioOptionsSchema,
} from './twilio-schemas.js';

type TwilioClient = twilio.Twilio;
type RequestOptions<T> = RequestClient.RequestOptions<T>;
type TwilioResponse<T> = TwilioResponseModule.default<T>;

/** Twilio's error body: `{code, message, more_info, status}`; the code (20003, 20404...) is the provider code. */
export function parseTwilioError(answer: HttpAnswer): ProviderErrorBody {
  const parsed = twilioErrorSchema.safeParse(answer.body);
  if (!parsed.success) return { message: answer.text.trim() || `HTTP ${answer.status}` };
  const { code, message, detail } = parsed.data;
  return {
    message: [message, detail].filter(Boolean).join(': ') || `HTTP ${answer.status}`,
    ...(code !== undefined ? { providerCode: String(code) } : {}),
    ...(code === TWILIO_ERROR_TOO_MANY_REQUESTS ? { code: 'E_PROVIDER_RATE_LIMITED' as const } : {}),
  };
}

/** Where the httpClient leaves the last answer of the SDK call running in this async context. */
const answerSlot = new AsyncLocalStorage<{ answer?: HttpAnswer }>();
/** The answer (headers included) each error the SDK threw for an HTTP status was built from. */
const answersOfErrors = new WeakMap<object, HttpAnswer>();

/**
 * The SDK's HTTP client with the scheme, host (and any path prefix) of `baseUrl` in place of the SDK's own
 * (`https://api.twilio.com`), so every call — next pages included — goes where the adapter was told.
 */
class TwilioHttpClient extends twilio.RequestClient {
  readonly #base: URL;
  readonly #httpAgent = new HttpAgent({ keepAlive: true });

  constructor(baseUrl: string, timeoutMs: number) {
    // autoRetry false: the SDK's 429 interceptor is not installed (maxRetries only counts for it).
    super({ timeout: timeoutMs, autoRetry: false, keepAlive: true });
    this.#base = new URL(baseUrl);
    // RequestClient builds an https agent only; plain-http base URLs get one this client owns too.
    this.axios.defaults.httpAgent = this.#httpAgent;
  }

  override async request<T>(opts: RequestOptions<T>): Promise<TwilioResponse<T>> {
    const sdkUrl = new URL(opts.uri);
    const prefix = this.#base.pathname.replace(/\/+$/, '');
    const uri = `${this.#base.origin}${prefix}${sdkUrl.pathname}${sdkUrl.search}`;
    const response = await super.request<T>({ ...opts, uri });
    const slot = answerSlot.getStore();
    if (slot && (response.statusCode < 200 || response.statusCode >= 300)) {
      const headers = response.headers as { toJSON?: () => Record<string, string | string[]> } | undefined;
      slot.answer = sdkAnswer(response.statusCode, headers?.toJSON?.() ?? (headers as undefined), response.body);
    }
    return response;
  }

  close(): void {
    this.#httpAgent.destroy();
    (this.axios.defaults.httpsAgent as { destroy?: () => void } | undefined)?.destroy?.();
  }
}

/**
 * The answer behind what the SDK threw: the one our httpClient kept (status, headers, body), else one rebuilt from
 * the RestException's fields (status, code, message, moreInfo) — without headers; undefined without an answer.
 */
export function twilioAnswerOf(error: unknown): HttpAnswer | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const kept = answersOfErrors.get(error);
  if (kept) return kept;
  if (error instanceof twilio.RestException) {
    const { status, code, message, moreInfo } = error;
    return sdkAnswer(status, undefined, { status, code, message, more_info: moreInfo });
  }
  return undefined;
}

/**
 * Axios (under the SDK) names its own timeout `ECONNABORTED` (`ETIMEDOUT` with `clarifyTimeoutError`); other socket
 * failures keep their code. An error that is not axios' was raised by the SDK before sending: no transport failure.
 */
function twilioTransportError(error: unknown): ProviderError {
  const { isAxiosError, code } = (error ?? {}) as { isAxiosError?: boolean; code?: unknown };
  if (!isAxiosError) {
    return new ProviderError('E_PROVIDER', TWILIO_PROVIDER_NAME, 'the Twilio SDK refused the call before sending it');
  }
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return transportError(TWILIO_PROVIDER_NAME, { name: 'TimeoutError' });
  }
  return transportErrorOfChain(TWILIO_PROVIDER_NAME, error);
}

/** A secret written `SK...:secret` carries its own key SID, so it verifies without a ref. */
function splitKey(secret: SecretValue, ref?: ProviderKeyRef): { keySid?: string; secret: SecretValue } {
  const match = /^(SK[0-9a-fA-F]{32}):(.+)$/s.exec(secret.reveal());
  if (match) return { keySid: match[1]!, secret: new SecretValue(match[2]!) };
  return { ...(ref?.providerKeyId ? { keySid: ref.providerKeyId } : {}), secret };
}

/** The SDK deserialises RFC 2822 dates, leaving a text it could not read as it was. */
function sdkDate(value: Date | string | null | undefined): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The part of the SDK's Page the adapter walks. */
interface SdkPage<I> {
  instances: I[];
  nextPageUrl?: string;
  nextPage(): Promise<SdkPage<I>> | undefined;
}

export class TwilioProvider extends ProviderAdapter {
  readonly #options: TwilioOptions;
  readonly #context: ProviderContext;
  readonly #caller: SdkCaller;
  readonly #http: TwilioHttpClient;
  /**
   * SDK clients with the adapter's credentials, by account SID: the SDK wants an account SID beside a key SID
   * (`accountSid` option), and with `keySid` alone the account comes from the call.
   */
  readonly #admins = new Map<string, TwilioClient>();

  constructor(options: TwilioOptionsInput | TwilioOptions, context: ProviderContext) {
    const parsed = twilioOptionsSchema.parse(options);
    super(twilioProviderRegistration, parsed, context);
    this.#options = parsed;
    this.#context = context;
    this.#http = new TwilioHttpClient(this.#options.baseUrl, this.#options.timeoutMs);
    this.#caller = this.sdkCaller({
      answerOf: twilioAnswerOf,
      parseError: parseTwilioError,
      transportErrorOf: twilioTransportError,
      secrets: [this.#options.authToken],
    });
  }

  /** The SDK client holding the adapter's credentials; verify() alone works without them. */
  #admin(account: string): TwilioClient {
    const user = this.#options.keySid ?? this.#options.accountSid;
    if (!user || !this.#options.authToken) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `accountSid` and `authToken` options (or `keySid` and a Main key secret as `authToken`)',
      );
    }
    let client = this.#admins.get(account);
    if (!client) {
      client = this.#sdkClient(user, this.#options.authToken, account);
      this.#admins.set(account, client);
    }
    return client;
  }

  #sdkClient(user: string, password: SecretValue, accountSid: string): TwilioClient {
    return twilio(user, password.reveal(), {
      accountSid,
      httpClient: this.#http,
      timeout: this.#options.timeoutMs,
      autoRetry: false,
      maxRetries: 0,
      userAgentExtensions: ['keyledger'],
    });
  }

  /** The account is the main account unless the request names a subaccount (`AC...`). */
  #account(account: string | undefined): string {
    if (account === undefined) {
      if (this.#options.accountSid) return this.#options.accountSid;
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        'no account: give the ref an account SID or set `accountSid`',
      );
    }
    const parsed = twilioAccountSidSchema.safeParse(account);
    if (!parsed.success) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        `account must be an account SID (AC...), not ${account}`,
      );
    }
    return parsed.data;
  }

  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const account = this.#account(request.account);
    const client = this.#admin(account);
    const key = await this.#call(false, [], () =>
      // Twilio caps FriendlyName at 64 characters.
      client.api.v2010.accounts(account).newKeys.create({ friendlyName: request.name.slice(0, 64) }),
    );
    if (!key.secret) throw new ProviderError('E_PROVIDER', this.name, 'Twilio answered without the new secret');
    return {
      providerKeyId: key.sid,
      account,
      secret: new SecretValue(key.secret),
      createdAt: sdkDate(key.dateCreated) ?? this.#context.clock(),
    };
  }

  /** One account's keys, or (without an account) those of the main account and every subaccount. */
  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    const accounts = options.account !== undefined ? [this.#account(options.account)] : await this.#accounts();
    for (const account of accounts) {
      const client = this.#admin(account);
      for await (const keys of this.#pages(() =>
        client.api.v2010.accounts(account).keys.page({ pageSize: TWILIO_PAGE_SIZE }),
      )) {
        for (const key of keys) {
          const createdAt = sdkDate(key.dateCreated);
          yield {
            providerKeyId: key.sid,
            account,
            status: 'active',
            ...(key.friendlyName ? { name: key.friendlyName } : {}),
            ...(createdAt ? { createdAt } : {}),
          };
        }
      }
    }
  }

  /**
   * Fetches the key's account with the key as basic credentials. 401 means Twilio refused the key; 403 means it
   * authenticated but, being a Standard key, may not read the Account resource — it works.
   */
  async verify(secret: SecretValue, ref?: ProviderKeyRef): Promise<VerifyResult> {
    const key = splitKey(secret, ref);
    if (!key.keySid) {
      throw new ProviderError(
        'E_PROVIDER_INVALID_REQUEST',
        this.name,
        'a Twilio key verifies with its SID: pass the ref, or the secret as SK...:secret',
      );
    }
    const keySid = key.keySid;
    const account = this.#account(ref?.account);
    const client = this.#sdkClient(keySid, key.secret, account);
    try {
      const fetched = await this.#call(true, [secret, key.secret], () => client.api.v2010.accounts(account).fetch());
      return { valid: true, identity: fetched.sid, providerKeyId: keySid };
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      if (error.status === 401 || error.status === 404) return { valid: false, reason: error.message };
      if (error.status === 403) return { valid: true, identity: account, providerKeyId: keySid };
      throw error;
    }
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    const account = this.#account(ref.account);
    const client = this.#admin(account);
    // The SDK puts the SID into the path as it is (and refuses `/` and `?`): encoded, an odd id is just unknown.
    const sid = encodeURIComponent(ref.providerKeyId);
    try {
      await this.#call(true, [], () => client.api.v2010.accounts(account).keys(sid).remove());
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  async lastUsed(): Promise<LastUsed> {
    throw new ProviderError('E_PROVIDER_UNSUPPORTED', this.name, 'Twilio records no last use of an API key');
  }

  /** Releases the sockets of the SDK clients (they all share this adapter's httpClient). */
  async close(): Promise<void> {
    this.#http.close();
  }

  /** The main account and its subaccounts (`Accounts.json` lists both), closed ones left out. */
  async #accounts(): Promise<string[]> {
    const client = this.#admin(this.#account(undefined));
    const sids: string[] = [];
    for await (const accounts of this.#pages(() => client.api.v2010.accounts.page({ pageSize: TWILIO_PAGE_SIZE }))) {
      for (const account of accounts) if (account.status !== 'closed') sids.push(account.sid);
    }
    return sids.length ? sids : [this.#account(undefined)];
  }

  /** A listing page by page, each page one paced and retried call; the SDK follows `next_page_uri`. */
  async *#pages<I>(first: () => Promise<SdkPage<I>>): AsyncIterable<I[]> {
    let page: SdkPage<I> | undefined = await this.#call(true, [], first);
    while (page) {
      yield page.instances;
      const current: SdkPage<I> = page;
      page = current.nextPageUrl ? await this.#call(true, [], () => current.nextPage()!) : undefined;
    }
  }

  /**
   * One SDK call through SdkCaller, run in its own async context so the httpClient can hand the answer behind a
   * RestException (headers included) to `twilioAnswerOf`.
   */
  #call<T>(idempotent: boolean, secrets: SecretValue[], send: () => Promise<T>): Promise<T> {
    return this.#caller.call({ idempotent, secrets }, async () => {
      const slot: { answer?: HttpAnswer } = {};
      try {
        return await answerSlot.run(slot, send);
      } catch (error) {
        const status = (error as { status?: unknown } | null)?.status;
        if (slot.answer && typeof error === 'object' && error !== null && status === slot.answer.status) {
          answersOfErrors.set(error, slot.answer);
        }
        throw error;
      }
    });
  }
}
