// A minimal SCIM client for tests: sends what a test gives, as an identity provider would, and returns the
// status, the content type and the parsed body. Fixtures are read from src/idp/scim/fixtures/ with their `{name}`
// placeholders filled in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ScimResponse {
  status: number;
  contentType: string;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
  body: any;
}

export function scimClient(url: string, token: string | undefined) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ScimResponse> => {
    const response = await fetch(`${url}/scim/v2${path}`, {
      method,
      headers: {
        ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  };
}

const FIXTURES = join(import.meta.dirname, '..', 'scim', 'fixtures');

/** A fixture's text with `{name}` placeholders replaced, as the exact bytes to send. */
export function scimFixture(name: string, values: Record<string, string> = {}): string {
  let text = readFileSync(join(FIXTURES, name), 'utf8');
  for (const [key, value] of Object.entries(values)) text = text.replaceAll(`{${key}}`, value);
  return text;
}
