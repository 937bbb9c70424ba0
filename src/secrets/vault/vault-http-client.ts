// The Vault HTTP API as the store uses it: JSON requests under `/v1/`, the token and namespace headers, one
// re-login and retry when an AppRole token is refused, and Vault's `{"errors": [...]}` answers turned into typed
// errors. Texts from Vault pass through redaction, so neither a token nor a value can ride out in a message.
import { type Dispatcher, request } from 'undici';
import { redactSecrets } from '../../runtime/secret-redaction.js';
import { SecretStoreError, type SecretStoreErrorCode } from '../secret-store-error.js';
import { SecretValue } from '../secret-value.js';
import type { VaultAuth } from './vault-auth.js';

const KIND = 'vault';

export interface VaultAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: Vault's JSON, read field by field by the store.
  body: any;
}

export interface VaultCall {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Below `/v1/`, already encoded, e.g. `secret/data/payments/stripe`. */
  path: string;
  json?: unknown;
  /** Statuses the caller reads itself instead of getting an error (404 for a missing secret). */
  accept?: number[];
  /** Key material in this call, cut out of any error text. */
  secrets?: SecretValue[];
  /** The logical path, for error details. */
  secretPath?: string;
}

export class VaultHttpClient {
  readonly #address: string;
  readonly #namespace?: string;
  readonly #timeoutMs: number;
  readonly #dispatcher?: Dispatcher;
  #auth?: VaultAuth;

  constructor(options: { address: string; namespace?: string; timeoutMs: number; dispatcher?: Dispatcher }) {
    this.#address = options.address.replace(/\/+$/, '');
    if (options.namespace) this.#namespace = options.namespace;
    this.#timeoutMs = options.timeoutMs;
    if (options.dispatcher) this.#dispatcher = options.dispatcher;
  }

  /** Set after construction because AppRole auth logs in through this very client. */
  useAuth(auth: VaultAuth): void {
    this.#auth = auth;
  }

  /** An authenticated call; a 403 makes AppRole log in again and the call is sent once more. */
  async call(call: VaultCall): Promise<VaultAnswer> {
    const auth = this.#auth;
    if (!auth) throw new Error('VaultHttpClient.useAuth must be called before call');
    const first = await this.#send(call, await auth.token());
    if (first.status !== 403 || !auth.invalidate()) return this.#check(call, first);
    return this.#check(call, await this.#send(call, await auth.token()));
  }

  /** POST /v1/auth/<mount>/login with role_id and secret_id. */
  async loginWithAppRole(
    mount: string,
    roleId: string,
    secretId: SecretValue,
  ): Promise<{ token: SecretValue; leaseSeconds: number }> {
    const call: VaultCall = {
      method: 'POST',
      path: `auth/${encodeURIComponent(mount)}/login`,
      json: { role_id: roleId, secret_id: secretId.reveal() },
      secrets: [secretId],
    };
    const answer = this.#check(call, await this.#send(call, undefined), 'E_SECRET_STORE_AUTH');
    const token = answer.body?.auth?.client_token;
    if (typeof token !== 'string' || token === '') {
      throw new SecretStoreError(
        'E_SECRET_STORE_AUTH',
        KIND,
        `AppRole login at auth/${mount} returned no client_token`,
      );
    }
    return { token: new SecretValue(token), leaseSeconds: Number(answer.body.auth.lease_duration ?? 0) };
  }

  async #send(call: VaultCall, token: SecretValue | undefined): Promise<VaultAnswer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers['x-vault-token'] = token.reveal();
    if (this.#namespace) headers['x-vault-namespace'] = this.#namespace;
    if (call.json !== undefined) headers['content-type'] = 'application/json';
    const send = () =>
      request(`${this.#address}/v1/${call.path}`, {
        method: call.method,
        headers,
        ...(call.json !== undefined ? { body: JSON.stringify(call.json) } : {}),
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      });
    try {
      // A read whose kept-alive connection the server had just closed is sent once more on a fresh one (a write
      // is not: it may have been applied).
      const response = await send().catch((error: unknown) => {
        if (call.method === 'GET' && isStaleConnection(error)) return send();
        throw error;
      });
      const text = await response.body.text();
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = { errors: [text.slice(0, 200)] };
      }
      return { status: response.statusCode, body };
    } catch (error) {
      // Transport errors carry no request body; the message names only the route.
      throw new SecretStoreError(
        'E_SECRET_STORE_UNAVAILABLE',
        KIND,
        `cannot reach Vault at ${this.#address} for ${call.method} ${call.path}: ${(error as Error).message}`,
        {
          ...(call.secretPath !== undefined ? { path: call.secretPath } : {}),
          cause: error,
        },
      );
    }
  }

  #check(call: VaultCall, answer: VaultAnswer, codeFor403: SecretStoreErrorCode = 'E_SECRET_STORE_AUTH'): VaultAnswer {
    if ((answer.status >= 200 && answer.status < 300) || call.accept?.includes(answer.status)) return answer;
    const secrets = [...(call.secrets ?? []), ...(this.#auth?.secrets ?? [])];
    const rawErrors: unknown[] = Array.isArray(answer.body?.errors) ? answer.body.errors : [];
    const storeMessages = rawErrors.map((text) => redactSecrets(String(text), secrets));
    const code = codeForStatus(answer.status, storeMessages, codeFor403);
    const said = storeMessages.length > 0 ? storeMessages.join('; ') : 'no error text';
    throw new SecretStoreError(code, KIND, `Vault answered ${answer.status} to ${call.method} ${call.path}: ${said}`, {
      status: answer.status,
      storeMessages,
      ...(call.secretPath !== undefined ? { path: call.secretPath } : {}),
    });
  }
}

export function isCasMismatch(error: unknown): boolean {
  return error instanceof SecretStoreError && error.code === 'E_SECRET_CONFLICT' && error.status === 400;
}

function codeForStatus(status: number, messages: string[], codeFor403: SecretStoreErrorCode): SecretStoreErrorCode {
  if (status === 400 && messages.some((text) => text.includes('check-and-set parameter did not match')))
    return 'E_SECRET_CONFLICT';
  if (status === 400 && messages.some((text) => text.includes('invalid role or secret ID')))
    return 'E_SECRET_STORE_AUTH';
  if (status === 401 || status === 403) return codeFor403;
  if (status === 404) return 'E_SECRET_NOT_FOUND';
  if (status === 412) return 'E_SECRET_CONFLICT';
  if (status === 429 || status >= 500) return 'E_SECRET_STORE_UNAVAILABLE';
  if (status >= 400 && status < 500) return 'E_SECRET_STORE_INVALID_REQUEST';
  return 'E_SECRET_STORE';
}

/** The connection was reset or closed under the request (a kept-alive socket the server had just closed). */
function isStaleConnection(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}
