// Google Workspace as an identity source (docs/offboarding.md): everyone in the customer through the Admin SDK
// Directory API (`users.list`, `customer=my_customer`, followed through `nextPageToken`) for
// `offboard --reconcile`, and a leaver signed out of every web and device session with `users.signOut`. Calls go
// through Google's client (@googleapis/admin) at `rootUrl` (a sandbox in tests, src/sandbox/idp/google/), with an
// OAuth access token the caller obtains (a service account with domain-wide delegation, outside keyledger); a 429
// or 503 is retried after its `Retry-After`, a few times.
import { admin_directory_v1, auth } from '@googleapis/admin';
import { z } from 'zod';
import type { DirectoryPerson, IdentitySource } from '../../directory/identity-source.js';
import { KeyledgerError } from '../../errors/keyledger-error.js';
import { parseRetryAfter, realSleep, type Sleep } from '../../runtime/retry-policy.js';

export const googleSourceOptionsSchema = z.strictObject({
  accessToken: z.string().min(1),
  rootUrl: z.url().default('https://admin.googleapis.com/'),
  customer: z.string().min(1).default('my_customer'),
  maxRetries: z.number().int().nonnegative().max(10).default(4),
});
export type GoogleSourceOptions = z.input<typeof googleSourceOptionsSchema>;

export class GoogleIdentitySource implements IdentitySource {
  readonly name = 'google';
  readonly #options: z.output<typeof googleSourceOptionsSchema>;
  readonly #directory: admin_directory_v1.Admin;
  readonly #sleep: Sleep;

  constructor(options: GoogleSourceOptions, context: { sleep?: Sleep } = {}) {
    this.#options = googleSourceOptionsSchema.parse(options);
    const client = new auth.OAuth2();
    client.setCredentials({ access_token: this.#options.accessToken });
    this.#directory = new admin_directory_v1.Admin({ auth: client, rootUrl: this.#options.rootUrl });
    this.#sleep = context.sleep ?? realSleep;
  }

  async *listPeople(): AsyncIterable<DirectoryPerson> {
    let pageToken: string | undefined;
    do {
      const token = pageToken;
      const { data } = await this.#call('users.list', () =>
        this.#directory.users.list({
          customer: this.#options.customer,
          maxResults: 500,
          orderBy: 'email',
          ...(token ? { pageToken: token } : {}),
        }),
      );
      for (const user of data.users ?? []) {
        const person = personOf(user);
        if (person) yield person;
      }
      pageToken = data.nextPageToken ?? undefined;
    } while (pageToken);
  }

  async revokeSessions(person: DirectoryPerson): Promise<{ revoked: boolean; detail: string }> {
    const userKey = person.externalId && person.source === 'google' ? person.externalId : person.email;
    try {
      await this.#call('users.signOut', () => this.#directory.users.signOut({ userKey }));
    } catch (error) {
      if (error instanceof KeyledgerError && error.code === 'E_IDP_NOT_FOUND')
        return { revoked: false, detail: `google has no user ${person.email}` };
      throw error;
    }
    return { revoked: true, detail: `google: ${person.email} signed out of every session` };
  }

  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const e = error as { status?: number; response?: { status?: number; headers?: unknown }; message?: string };
        const status = e.status ?? e.response?.status;
        if ((status === 429 || status === 503) && attempt < this.#options.maxRetries) {
          await this.#sleep(Math.min(30_000, retryAfterOf(e.response?.headers) ?? 500 * 2 ** attempt));
          continue;
        }
        throw new KeyledgerError(
          status === 404 ? 'E_IDP_NOT_FOUND' : 'E_IDP_CALL',
          `google: ${what} failed${status ? ` (HTTP ${status})` : ''}: ${e.message ?? 'no answer'}`,
          { category: status === 404 ? 'not-found' : 'external' },
        );
      }
    }
  }
}

function retryAfterOf(headers: unknown): number | undefined {
  if (!headers) return undefined;
  const value =
    typeof (headers as Headers).get === 'function'
      ? (headers as Headers).get('retry-after')
      : (headers as Record<string, string | undefined>)['retry-after'];
  return parseRetryAfter(value ?? undefined);
}

function personOf(user: admin_directory_v1.Schema$User): DirectoryPerson | undefined {
  const email = user.primaryEmail?.toLowerCase();
  if (!email || !user.id) return undefined;
  return {
    id: user.id,
    email,
    userName: email,
    externalId: user.id,
    ...(user.name?.fullName ? { displayName: user.name.fullName } : {}),
    // An archived user has left; a suspended one may come back but holds nothing now.
    status: user.archived ? 'deprovisioned' : user.suspended ? 'suspended' : 'active',
    source: 'google',
  };
}
