// The Twilio adapter: API keys of an account and its subaccounts — create (`POST .../Keys.json`, form-encoded; the
// secret is shown once), list (paged by `next_page_uri`), delete — and verify by fetching the account with the key
// itself as HTTP basic credentials (KeySid:secret). Twilio records no last use of a key: capabilities say so.
import { SecretValue } from '../../secrets/secret-value.js';
import { type HttpAnswer, type ProviderErrorBody, ProviderHttpClient } from '../http/provider-http-client.js';
import { effectiveRateLimit } from '../http/provider-http-options.js';
import { TokenBucket } from '../http/token-bucket.js';
import type {
  CreatedKey,
  CreateKeyRequest,
  LastUsed,
  Provider,
  ProviderCapabilities,
  ProviderKey,
  ProviderKeyRef,
  RateLimit,
  VerifyResult,
} from '../provider.js';
import type { ProviderContext } from '../provider-context.js';
import { ProviderError } from '../provider-error.js';
import {
  TWILIO_API_VERSION_PATH,
  TWILIO_CAPABILITIES,
  TWILIO_ERROR_TOO_MANY_REQUESTS,
  TWILIO_PAGE_SIZE,
  TWILIO_PROVIDER_NAME,
  TWILIO_RATE_LIMIT,
} from './twilio-constants.js';
import {
  type TwilioOptions,
  type TwilioOptionsInput,
  twilioAccountPageSchema,
  twilioAccountSchema,
  twilioAccountSidSchema,
  twilioErrorSchema,
  twilioKeyPageSchema,
  twilioKeySchema,
  twilioOptionsSchema,
} from './twilio-schemas.js';

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

function basicAuth(user: string, password: SecretValue): string {
  return `Basic ${Buffer.from(`${user}:${password.reveal()}`).toString('base64')}`;
}

/** A secret written `SK...:secret` carries its own key SID, so it verifies without a ref. */
function splitKey(secret: SecretValue, ref?: ProviderKeyRef): { keySid?: string; secret: SecretValue } {
  const match = /^(SK[0-9a-fA-F]{32}):(.+)$/s.exec(secret.reveal());
  if (match) return { keySid: match[1]!, secret: new SecretValue(match[2]!) };
  return { ...(ref?.providerKeyId ? { keySid: ref.providerKeyId } : {}), secret };
}

export class TwilioProvider implements Provider {
  readonly name = TWILIO_PROVIDER_NAME;
  readonly #options: TwilioOptions;
  readonly #context: ProviderContext;
  readonly #http: ProviderHttpClient;

  constructor(options: TwilioOptionsInput | TwilioOptions, context: ProviderContext) {
    this.#options = twilioOptionsSchema.parse(options);
    this.#context = context;
    const limit = effectiveRateLimit(TWILIO_RATE_LIMIT, this.#options.rateLimit);
    this.#http = new ProviderHttpClient(
      {
        provider: this.name,
        baseUrl: this.#options.baseUrl,
        timeoutMs: this.#options.timeoutMs,
        retry: this.#options.retry,
        parseError: parseTwilioError,
        ...(limit ? { rateLimiter: new TokenBucket(limit) } : {}),
        headers: () => ({ 'user-agent': 'keyledger' }),
        ...(this.#options.authToken ? { secrets: [this.#options.authToken] } : {}),
      },
      { ...(context.sleep ? { sleep: context.sleep } : {}), ...(context.random ? { random: context.random } : {}) },
    );
  }

  capabilities(): ProviderCapabilities {
    return structuredClone(TWILIO_CAPABILITIES);
  }

  rateLimit(): RateLimit {
    return effectiveRateLimit(TWILIO_RATE_LIMIT, this.#options.rateLimit) ?? TWILIO_RATE_LIMIT;
  }

  #auth(): Record<string, string> {
    const user = this.#options.keySid ?? this.#options.accountSid;
    if (!user || !this.#options.authToken) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `accountSid` and `authToken` options (or `keySid` and a Main key secret as `authToken`)',
      );
    }
    return { authorization: basicAuth(user, this.#options.authToken) };
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
    const answer = await this.#http.send({
      method: 'POST',
      path: `${TWILIO_API_VERSION_PATH}/Accounts/${account}/Keys.json`,
      headers: this.#auth(),
      // Twilio caps FriendlyName at 64 characters.
      form: { FriendlyName: request.name.slice(0, 64) },
      idempotent: false,
    });
    const key = twilioKeySchema.parse(answer.body);
    if (!key.secret) throw new ProviderError('E_PROVIDER', this.name, 'Twilio answered without the new secret');
    return {
      providerKeyId: key.sid,
      account,
      secret: new SecretValue(key.secret),
      createdAt: key.date_created ? new Date(key.date_created) : this.#context.clock(),
    };
  }

  /** One account's keys, or (without an account) those of the main account and every subaccount. */
  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    const accounts = options.account !== undefined ? [this.#account(options.account)] : await this.#accounts();
    for (const account of accounts) {
      for await (const page of this.#pages(`${TWILIO_API_VERSION_PATH}/Accounts/${account}/Keys.json`)) {
        for (const key of twilioKeyPageSchema.parse(page.body).keys) {
          yield {
            providerKeyId: key.sid,
            account,
            status: 'active',
            ...(key.friendly_name ? { name: key.friendly_name } : {}),
            ...(key.date_created ? { createdAt: new Date(key.date_created) } : {}),
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
    const account = this.#account(ref?.account);
    const answer = await this.#http.send({
      method: 'GET',
      path: `${TWILIO_API_VERSION_PATH}/Accounts/${account}.json`,
      headers: { authorization: basicAuth(key.keySid, key.secret) },
      accept: [401, 403, 404],
      secrets: [secret, key.secret],
    });
    if (answer.status === 401 || answer.status === 404) {
      return { valid: false, reason: parseTwilioError(answer).message };
    }
    if (answer.status === 403) return { valid: true, identity: account, providerKeyId: key.keySid };
    const fetched = twilioAccountSchema.parse(answer.body);
    return { valid: true, identity: fetched.sid, providerKeyId: key.keySid };
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    const account = this.#account(ref.account);
    try {
      await this.#http.send({
        method: 'DELETE',
        path: `${TWILIO_API_VERSION_PATH}/Accounts/${account}/Keys/${encodeURIComponent(ref.providerKeyId)}.json`,
        headers: this.#auth(),
      });
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
  }

  async lastUsed(): Promise<LastUsed> {
    throw new ProviderError('E_PROVIDER_UNSUPPORTED', this.name, 'Twilio records no last use of an API key');
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  async #accounts(): Promise<string[]> {
    const sids: string[] = [];
    for await (const page of this.#pages(`${TWILIO_API_VERSION_PATH}/Accounts.json`)) {
      for (const account of twilioAccountPageSchema.parse(page.body).accounts) {
        if (account.status !== 'closed') sids.push(account.sid);
      }
    }
    return sids.length ? sids : [this.#account(undefined)];
  }

  /** Follows Twilio's `next_page_uri` (a path from the API root, query included) until it is null. */
  async *#pages(path: string): AsyncIterable<HttpAnswer> {
    let next: string | null | undefined = `${path}?PageSize=${TWILIO_PAGE_SIZE}`;
    while (next) {
      const answer = await this.#http.send({ method: 'GET', path: next, headers: this.#auth() });
      yield answer;
      const body = answer.body as { next_page_uri?: string | null } | undefined;
      next = body?.next_page_uri ?? null;
    }
  }
}
