// The usual shapes of a provider's identify-self request, as verify blocks (rule-definition.ts VerifyDefinition):
// a bearer token, a token in a named header, HTTP Basic, a token in the query. Each answers 200 for a working key
// and 401/403 for a revoked or invalid one unless told otherwise; anything else (429, 5xx, a redirect) is unknown.
import type { VerifyCondition, VerifyDefinition } from './rule-definition.js';

interface VerifyOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  verified?: Partial<VerifyCondition>;
  invalid?: Partial<VerifyCondition>;
}

const OK = [200];
const REFUSED = [401, 403];

function request(url: string, headers: Record<string, string>, options: VerifyOptions): VerifyDefinition {
  return {
    method: options.method ?? 'GET',
    url,
    headers: { ...headers, ...(options.headers ?? {}) },
    ...(options.body !== undefined ? { body: options.body } : {}),
    verified: { status: OK, ...(options.verified ?? {}) },
    invalid: { status: REFUSED, ...(options.invalid ?? {}) },
  };
}

/** `Authorization: Bearer <secret>`. */
export function bearerVerify(url: string, options: VerifyOptions = {}): VerifyDefinition {
  return request(url, { Authorization: 'Bearer {{secret}}' }, options);
}

/** The secret in a header of its own (`X-API-Key: <secret>`), or after a scheme word (`Token <secret>`). */
export function headerVerify(url: string, name: string, prefix = '', options: VerifyOptions = {}): VerifyDefinition {
  return request(url, { [name]: `${prefix}{{secret}}` }, options);
}

/** HTTP Basic with the secret as the user name and an empty password. */
export function basicUserVerify(url: string, options: VerifyOptions = {}): VerifyDefinition {
  return request(url, { Authorization: 'Basic {{basic_user}}' }, options);
}

/** HTTP Basic with the secret as the password of a fixed user name (`api`, `x-token`...). */
export function basicPasswordVerify(url: string, user: string, options: VerifyOptions = {}): VerifyDefinition {
  return { ...request(url, { Authorization: 'Basic {{basic_password}}' }, options), basicUser: user };
}

/** The secret in the URL's query or path (`?api_key={{secret}}`): the template says where. */
export function urlVerify(url: string, options: VerifyOptions = {}): VerifyDefinition {
  return request(url, {}, options);
}

/** HTTP Basic whose credentials are the whole secret (a `name:secret` key such as Ably's). */
export function basicWholeVerify(url: string, options: VerifyOptions = {}): VerifyDefinition {
  return request(url, { Authorization: 'Basic {{secret_base64}}' }, options);
}
