// Okta as an identity source we read and act on (docs/offboarding.md): everyone in the org through the Users API
// for `offboard --reconcile` (Okta leaves DEPROVISIONED users out of a plain list, so they are asked for by
// filter), and a leaver's sessions ended with `DELETE /api/v1/users/{id}/sessions?oauthTokens=true`, which also
// revokes the OpenID Connect and OAuth tokens Okta issued them. Calls go through Okta's official SDK
// (@okta/okta-sdk-nodejs), whose request executor waits out a 429 by `X-Rate-Limit-Reset`. The org is reached
// at `orgUrl` only (a sandbox in tests, src/sandbox/idp/okta/). Errors carry Okta's code and summary, never the token.
import { Client } from '@okta/okta-sdk-nodejs';
import { z } from 'zod';
import type { DirectoryPerson, IdentitySource, PersonStatus } from '../../directory/identity-source.js';
import { KeyledgerError } from '../../errors/keyledger-error.js';

export const oktaSourceOptionsSchema = z.strictObject({
  orgUrl: z.url(),
  /** An API token (`SSWS`) of an admin allowed to read users and clear their sessions. */
  token: z.string().min(1),
  /** Retries of a 429 (the SDK's rateLimit.maxRetries). */
  maxRetries: z.number().int().nonnegative().default(4),
});
export type OktaSourceOptions = z.input<typeof oktaSourceOptionsSchema>;

interface OktaUser {
  id?: string;
  status?: string;
  statusChanged?: string | Date;
  profile?: { login?: string; email?: string; firstName?: string; lastName?: string; nickName?: string };
}

export class OktaIdentitySource implements IdentitySource {
  readonly name = 'okta';
  readonly #client: Client;

  constructor(options: OktaSourceOptions) {
    const parsed = oktaSourceOptionsSchema.parse(options);
    this.#client = new Client({
      orgUrl: parsed.orgUrl,
      token: parsed.token,
      // A fresh read every time: the SDK's default cache would answer a reconciliation from a minute-old list.
      cacheMiddleware: null,
      maxRetries: parsed.maxRetries,
    } as ConstructorParameters<typeof Client>[0]);
  }

  async *listPeople(): AsyncIterable<DirectoryPerson> {
    // A plain list omits DEPROVISIONED users; they are the ones reconciliation is for.
    for (const filter of [undefined, 'status eq "DEPROVISIONED"']) {
      const users = await this.#call('list users', () =>
        this.#client.userApi.listUsers({ limit: 200, ...(filter ? { filter } : {}) }),
      );
      for await (const user of users as AsyncIterable<OktaUser>) {
        const person = personOf(user);
        if (person) yield person;
      }
    }
  }

  async revokeSessions(person: DirectoryPerson): Promise<{ revoked: boolean; detail: string }> {
    // The sessions endpoint takes the Okta user id; a login (the email) finds it.
    const user = await this.#call('find user', () =>
      this.#client.userApi.getUser({
        userId: person.externalId && person.source === 'okta' ? person.externalId : person.email,
      }),
    ).catch((error: unknown) => {
      if (error instanceof KeyledgerError && error.code === 'E_IDP_NOT_FOUND') return undefined;
      throw error;
    });
    if (!user?.id) return { revoked: false, detail: `okta has no user ${person.email}` };
    const userId = user.id;
    await this.#call('revoke sessions', () => this.#client.userApi.revokeUserSessions({ userId, oauthTokens: true }));
    return { revoked: true, detail: `okta: sessions and OAuth tokens of user ${userId} revoked` };
  }

  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw idpError('okta', what, error);
    }
  }
}

function personOf(user: OktaUser): DirectoryPerson | undefined {
  const email = (user.profile?.email ?? user.profile?.login)?.toLowerCase();
  if (!email || !user.id) return undefined;
  const name = [user.profile?.firstName, user.profile?.lastName].filter(Boolean).join(' ');
  return {
    id: user.id,
    email,
    userName: user.profile?.login ?? email,
    externalId: user.id,
    ...(name ? { displayName: name } : {}),
    status: statusOf(user.status),
    ...(user.statusChanged ? { statusChangedAt: new Date(user.statusChanged).toISOString() } : {}),
    source: 'okta',
  };
}

/** Okta's lifecycle states: SUSPENDED may come back; DEPROVISIONED has left; the rest can sign in or soon will. */
function statusOf(status: string | undefined): PersonStatus {
  if (status === 'DEPROVISIONED') return 'deprovisioned';
  if (status === 'SUSPENDED') return 'suspended';
  return 'active';
}

/** Okta's status, code and summary (the SDK's own message carries every response header). */
function idpError(source: string, what: string, error: unknown): KeyledgerError {
  const e = error as {
    status?: number;
    code?: number;
    errorCode?: string;
    errorSummary?: string;
    body?: { errorCode?: string; errorSummary?: string };
  };
  const status = e.status ?? (typeof e.code === 'number' ? e.code : undefined);
  const code = e.errorCode ?? e.body?.errorCode;
  const summary = e.errorSummary ?? e.body?.errorSummary ?? (status === undefined ? (error as Error).message : '');
  return new KeyledgerError(
    status === 404 ? 'E_IDP_NOT_FOUND' : 'E_IDP_CALL',
    `${source}: ${what} failed${status ? ` (HTTP ${status}${code ? ` ${code}` : ''})` : ''}: ${summary}`,
    { category: status === 404 ? 'not-found' : 'external' },
  );
}
