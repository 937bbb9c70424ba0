// A rule's verify block (rules/rule-definition.ts VerifyDefinition) made into one HTTP request for one secret, and
// the checks a block must pass before it may run: an https URL whose host the template fixes (the secret is
// substituted only after the host, so a crafted secret cannot send itself elsewhere), known placeholders only.
import type { VerifyDefinition } from '../rules/rule-definition.js';

export interface RenderedVerifyRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

const PLACEHOLDER = /\{\{\s*([a-z_0-9]+)\s*\}\}/g;
const KNOWN = new Set(['secret', 'basic_user', 'basic_password', 'secret_base64']);

/** Why a verify block cannot run, or undefined when it can. The message never holds a secret (there is none yet). */
export function verifyDefinitionProblem(definition: VerifyDefinition): string | undefined {
  const templates = [definition.url, ...Object.values(definition.headers), definition.body ?? ''];
  for (const template of templates) {
    for (const [, name] of template.matchAll(PLACEHOLDER)) {
      if (!KNOWN.has(name as string)) return `unknown placeholder {{${name}}}`;
    }
  }
  const schemeAndHost = /^https:\/\/([^/?#{}]+)(?:[/?#]|$)/.exec(definition.url);
  if (!schemeAndHost) return 'url must be https:// with a fixed host (no placeholder before the path)';
  try {
    new URL(definition.url.replace(PLACEHOLDER, 'x'));
  } catch {
    return 'url is not a valid URL';
  }
  for (const name of Object.keys(definition.headers)) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return `header name ${JSON.stringify(name)} is not a valid token`;
  }
  if (definition.verified.status.length === 0) return 'verified.status lists no status';
  if (definition.invalid.status.length === 0) return 'invalid.status lists no status';
  const overlap = definition.verified.status.filter((status) => definition.invalid.status.includes(status));
  if (overlap.length > 0 && !(definition.verified.json && definition.invalid.json)) {
    return `status ${overlap.join(', ')} is both verified and invalid: both need a json condition to tell them apart`;
  }
  return undefined;
}

/** The origin (scheme, host, port) a verify block sends its secret to. */
export function declaredOrigin(definition: VerifyDefinition): string {
  return new URL(definition.url.replace(PLACEHOLDER, 'x')).origin;
}

/** Percent-encodes the secret for a URL path or query, keeping what is safe there unencoded (`:`, `.`, `~`). */
function urlSafe(secret: string): string {
  return encodeURIComponent(secret).replace(/%3A/gi, ':');
}

function substitute(template: string, values: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => values[name] ?? '');
}

/** The secret as the body's format needs it: form-encoded or a JSON string's content, as the content type says. */
function bodyValues(values: Record<string, string>, headers: Record<string, string>): Record<string, string> {
  const type = Object.entries(headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
  const secret = values.secret as string;
  if (type.includes('x-www-form-urlencoded')) return { ...values, secret: encodeURIComponent(secret) };
  if (type.includes('json')) return { ...values, secret: JSON.stringify(secret).slice(1, -1) };
  return values;
}

/** The request for this secret. Throws when the block cannot run (verifyDefinitionProblem) — never for a secret. */
export function renderVerifyRequest(definition: VerifyDefinition, secret: string): RenderedVerifyRequest {
  const problem = verifyDefinitionProblem(definition);
  if (problem) throw new Error(`verify block refused: ${problem}`);
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const values = {
    secret,
    basic_user: base64(`${secret}:`),
    basic_password: base64(`${definition.basicUser ?? ''}:${secret}`),
    secret_base64: base64(secret),
  };
  const url = new URL(substitute(definition.url, { ...values, secret: urlSafe(secret) }));
  if (url.origin !== declaredOrigin(definition)) throw new Error('verify block refused: the secret changed the host');
  const headers: Record<string, string> = {};
  for (const [name, template] of Object.entries(definition.headers)) headers[name] = substitute(template, values);
  return {
    method: definition.method,
    url,
    headers,
    ...(definition.body !== undefined ? { body: substitute(definition.body, bodyValues(values, headers)) } : {}),
  };
}
