// Microsoft Entra ID as an identity source (docs/offboarding.md): everyone in the tenant through Graph's users
// delta query (`GET /users/delta`, followed through `@odata.nextLink` to the `@odata.deltaLink`) for
// `offboard --reconcile`, and a leaver's sessions ended with `POST /users/{id}/revokeSignInSessions`, which
// invalidates their refresh tokens and session cookies. Graph is called through Microsoft's SDK
// (@microsoft/microsoft-graph-client, as src/providers/azure does), with its RetryHandler honouring Graph's
// `Retry-After` on 429 and a last link of our own that sets the bearer token whatever the Graph root (the SDK's
// AuthenticationHandler sends it to Microsoft's hosts only). The token is the client-credentials grant at
// `loginUrl`. Entra is reached at those two URLs only (a sandbox in tests, src/sandbox/idp/entra/).
import {
  Client,
  type Context,
  GraphError,
  type Middleware,
  RetryHandler,
  RetryHandlerOptions,
} from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import type { DirectoryPerson, IdentitySource } from '../../directory/identity-source.js';
import { KeyledgerError } from '../../errors/keyledger-error.js';

export const entraSourceOptionsSchema = z.strictObject({
  tenantId: z.string().min(1),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  graphUrl: z.url().default('https://graph.microsoft.com'),
  loginUrl: z.url().default('https://login.microsoftonline.com'),
  maxRetries: z.number().int().nonnegative().max(10).default(4),
});
export type EntraSourceOptions = z.input<typeof entraSourceOptionsSchema>;

interface GraphUser {
  id?: string;
  userPrincipalName?: string;
  mail?: string | null;
  displayName?: string;
  accountEnabled?: boolean;
  '@removed'?: unknown;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** The last link of the chain: sends with fetch, the bearer token set on every request. */
class BearerFetchHandler implements Middleware {
  readonly #token: () => Promise<string>;

  constructor(token: () => Promise<string>) {
    this.#token = token;
  }

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const headers = new Headers(context.options?.headers as ConstructorParameters<typeof Headers>[0]);
    headers.set('authorization', `Bearer ${await this.#token()}`);
    const response = await fetch(url, { ...context.options, headers, signal: AbortSignal.timeout(30_000) });
    const body = NULL_BODY_STATUSES.has(response.status) ? null : await response.arrayBuffer();
    context.response = new Response(body, { status: response.status, headers: [...response.headers] });
  }
}

export class EntraIdentitySource implements IdentitySource {
  readonly name = 'entra';
  readonly #options: z.output<typeof entraSourceOptionsSchema>;
  readonly #graph: Client;
  #token: { value: string; expiresAt: number } | undefined;

  constructor(options: EntraSourceOptions) {
    this.#options = entraSourceOptionsSchema.parse(options);
    const retry = new RetryHandler(new RetryHandlerOptions(1, this.#options.maxRetries));
    retry.setNext(new BearerFetchHandler(() => this.#accessToken()));
    this.#graph = Client.initWithMiddleware({
      baseUrl: this.#options.graphUrl.replace(/\/$/, ''),
      defaultVersion: 'v1.0',
      middleware: retry,
    });
  }

  async *listPeople(): AsyncIterable<DirectoryPerson> {
    let page = (await this.#call('users delta', () =>
      this.#graph
        .api('/users/delta')
        .select(['id', 'displayName', 'userPrincipalName', 'mail', 'accountEnabled'])
        .get(),
    )) as { value?: GraphUser[]; '@odata.nextLink'?: string };
    for (;;) {
      for (const user of page.value ?? []) {
        const person = personOf(user);
        if (person) yield person;
      }
      const next = page['@odata.nextLink'];
      if (!next) return;
      // Followed as a path on our Graph root: the SDK takes an absolute link as is only when it is https.
      const link = new URL(next);
      page = await this.#call('users delta', () =>
        this.#graph.api(`${link.pathname.replace(/^\/v1\.0/, '')}${link.search}`).get(),
      );
    }
  }

  async revokeSessions(person: DirectoryPerson): Promise<{ revoked: boolean; detail: string }> {
    const key = person.externalId && person.source === 'entra' ? person.externalId : person.email;
    try {
      await this.#call('revokeSignInSessions', () =>
        this.#graph.api(`/users/${encodeURIComponent(key)}/revokeSignInSessions`).post({}),
      );
    } catch (error) {
      if (error instanceof KeyledgerError && error.code === 'E_IDP_NOT_FOUND')
        return { revoked: false, detail: `entra has no user ${person.email}` };
      throw error;
    }
    return { revoked: true, detail: `entra: sign-in sessions of ${person.email} revoked` };
  }

  async #accessToken(): Promise<string> {
    if (this.#token && this.#token.expiresAt > Date.now() + 60_000) return this.#token.value;
    const { tenantId, clientId, clientSecret, loginUrl } = this.#options;
    const response = await fetch(`${loginUrl.replace(/\/$/, '')}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        scope: 'https://graph.microsoft.com/.default',
      }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
      error_description?: string;
    };
    if (!response.ok || !body.access_token)
      throw new KeyledgerError(
        'E_IDP_AUTH',
        `entra: token request refused (HTTP ${response.status} ${body.error ?? ''}): ${(body.error_description ?? '').split('\r\n')[0]}`,
        { category: 'external' },
      );
    this.#token = { value: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 3599) * 1000 };
    return this.#token.value;
  }

  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof KeyledgerError) throw error;
      const status = error instanceof GraphError ? error.statusCode : undefined;
      const code = error instanceof GraphError ? error.code : undefined;
      throw new KeyledgerError(
        status === 404 ? 'E_IDP_NOT_FOUND' : 'E_IDP_CALL',
        `entra: ${what} failed${status ? ` (HTTP ${status}${code ? ` ${code}` : ''})` : ''}: ${(error as Error).message}`,
        { category: status === 404 ? 'not-found' : 'external' },
      );
    }
  }
}

function personOf(user: GraphUser): DirectoryPerson | undefined {
  if (user['@removed'] || !user.id) return undefined;
  const email = (user.mail ?? user.userPrincipalName)?.toLowerCase();
  if (!email) return undefined;
  return {
    id: user.id,
    email,
    ...(user.userPrincipalName ? { userName: user.userPrincipalName } : {}),
    externalId: user.id,
    ...(user.displayName ? { displayName: user.displayName } : {}),
    // A disabled account is how an Entra tenant takes a leaver's access (SCIM's active: false).
    status: user.accountEnabled === false ? 'deprovisioned' : 'active',
    source: 'entra',
  };
}
