// GET-and-parse for the sources that read an HTTP API without an SDK (Vault, Kubernetes, GitLab): answers 429 and
// 503 are retried after the server's Retry-After (or a short back-off), at most five times; any other failure
// becomes a ConfigError carrying the status and the API's own message, which never holds the request's token.
import { ConfigError } from '../errors/keyledger-error.js';
import { parseRetryAfter, realSleep, type Sleep } from '../runtime/retry-policy.js';

const ATTEMPTS = 5;
const MAX_WAIT_MS = 30_000;

export interface JsonAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * The JSON body of `url`; `acceptStatus` lists statuses returned to the caller instead of thrown (404 for "nothing
 * there"). `describe` turns an error body into a readable reason.
 */
export async function getJson(
  url: string,
  headers: Record<string, string>,
  options: {
    what: string;
    acceptStatus?: readonly number[];
    describe?: (body: unknown) => string | undefined;
    sleep?: Sleep;
  },
): Promise<JsonAnswer> {
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(url, { headers: { accept: 'application/json', ...headers } });
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if ((response.status === 429 || response.status === 503) && attempt < ATTEMPTS) {
      const wait = parseRetryAfter(response.headers.get('retry-after')) ?? 250 * 2 ** attempt;
      await sleep(Math.min(wait, MAX_WAIT_MS));
      continue;
    }
    if (response.ok || options.acceptStatus?.includes(response.status))
      return { status: response.status, headers: response.headers, body };
    const reason = (body !== undefined ? options.describe?.(body) : undefined) ?? response.statusText;
    throw new ConfigError(`${options.what} answered ${response.status}: ${reason}`, {
      code: 'E_DISCOVERY_SOURCE_HTTP',
    });
  }
}
