// Google Workspace as an identity source (docs/offboarding.md): everyone in the customer through the Admin SDK
// Directory API (`users.list`, `customer=my_customer`, followed through `nextPageToken`) for
// `offboard --reconcile`, and a leaver signed out of every web and device session with `users.signOut`. Calls go
// through Google's client (@googleapis/admin) at `rootUrl` (a sandbox in tests, src/sandbox/idp/google/). The source
// authenticates itself as a service account with domain-wide delegation (google-service-account-token.ts: the
// key file's JWT exchanged at its `token_uri`, acting as `subject`, a Workspace admin, with the Directory scopes),
// renewing the token before it expires and once on a 401; or it is handed an `accessToken` minted elsewhere. A 429
// or 503 is retried after its `Retry-After`, a few times.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { admin_directory_v1, auth } from '@googleapis/admin';
import { z } from 'zod';
import type { DirectoryPerson, IdentitySource } from '../../directory/identity-source.js';
import { ConfigError, KeyledgerError } from '../../errors/keyledger-error.js';
import { type Clock, systemClock } from '../../runtime/clock.js';
import { parseRetryAfter, realSleep, type Sleep } from '../../runtime/retry-policy.js';
import {
  type GoogleServiceAccountKey,
  GoogleServiceAccountToken,
  googleServiceAccountKeySchema,
} from './google-service-account-token.js';

/** users.list and users.get. */
export const GOOGLE_DIRECTORY_READONLY_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user.readonly';
/** users.signOut (its reference page's only scope). */
export const GOOGLE_DIRECTORY_SECURITY_SCOPE = 'https://www.googleapis.com/auth/admin.directory.user.security';

export const googleSourceOptionsSchema = z
  .strictObject({
    /** An access token minted outside keyledger (expires within the hour; nothing renews it). */
    accessToken: z.string().min(1).optional(),
    /** The service account's JSON key file; a relative path is read from the identity-sources file's folder. */
    keyFile: z.string().min(1).optional(),
    /** The same key file's content, inline. */
    credentials: googleServiceAccountKeySchema.optional(),
    /** The Workspace admin the service account acts as (domain-wide delegation). */
    subject: z.email().optional(),
    /** What the assertion asks for; each must be granted to the account's client id in the Admin console. */
    scopes: z.array(z.url()).min(1).default([GOOGLE_DIRECTORY_READONLY_SCOPE, GOOGLE_DIRECTORY_SECURITY_SCOPE]),
    rootUrl: z.url().default('https://admin.googleapis.com/'),
    customer: z.string().min(1).default('my_customer'),
    maxRetries: z.number().int().nonnegative().max(10).default(4),
  })
  .superRefine((options, context) => {
    const given = (['accessToken', 'keyFile', 'credentials'] as const).filter((name) => options[name] !== undefined);
    if (given.length !== 1)
      context.addIssue({
        code: 'custom',
        path: given.length ? [given[1]!] : ['keyFile'],
        message: 'give exactly one of keyFile (a service-account key file), credentials (its content) or accessToken',
      });
    if (!options.accessToken && !options.subject)
      context.addIssue({
        code: 'custom',
        path: ['subject'],
        message: 'a service account needs `subject`: the Workspace admin it acts as (domain-wide delegation)',
      });
  });
export type GoogleSourceOptions = z.input<typeof googleSourceOptionsSchema>;

export interface GoogleSourceContext {
  sleep?: Sleep;
  clock?: Clock;
  /** Where a relative `keyFile` is read from (the identity-sources file's folder; default the working directory). */
  baseDir?: string;
}

export class GoogleIdentitySource implements IdentitySource {
  readonly name = 'google';
  readonly #options: z.output<typeof googleSourceOptionsSchema>;
  readonly #directory: admin_directory_v1.Admin;
  readonly #sleep: Sleep;
  /** Carries the current access token to the generated client; never fetches one itself. */
  readonly #client = new auth.OAuth2();
  /** The service account's token, when the source authenticates itself. */
  readonly #token: GoogleServiceAccountToken | undefined;

  constructor(options: GoogleSourceOptions, context: GoogleSourceContext = {}) {
    this.#options = googleSourceOptionsSchema.parse(options);
    const key = serviceAccountKeyOf(this.#options, context.baseDir ?? process.cwd());
    if (key) {
      try {
        this.#token = new GoogleServiceAccountToken({
          key,
          subject: this.#options.subject!,
          scopes: this.#options.scopes,
          clock: context.clock ?? systemClock,
        });
      } catch {
        // createPrivateKey's message says nothing useful and the key must not travel: name the field only.
        throw sourceConfigError('private_key is not a PEM private key (the key file as Google downloads it)');
      }
    } else {
      this.#client.setCredentials({ access_token: this.#options.accessToken });
    }
    this.#directory = new admin_directory_v1.Admin({ auth: this.#client, rootUrl: this.#options.rootUrl });
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

  /** The token for the next call, handed to the client; undefined with a fixed `accessToken`. */
  async #authorize(): Promise<string | undefined> {
    if (!this.#token) return undefined;
    const value = await this.#token.accessToken();
    this.#client.setCredentials({ access_token: value });
    return value;
  }

  async #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      const token = await this.#authorize();
      try {
        return await call();
      } catch (error) {
        const e = error as {
          status?: number;
          response?: { status?: number; headers?: unknown; data?: unknown };
          message?: string;
        };
        const status = e.status ?? e.response?.status;
        // A token Google no longer takes (revoked, or expired early): one new exchange, then the call again.
        if (status === 401 && token && !renewed) {
          this.#token!.invalidate(token);
          renewed = true;
          continue;
        }
        if ((status === 429 || status === 503) && attempt < this.#options.maxRetries) {
          await this.#sleep(Math.min(30_000, retryAfterOf(e.response?.headers) ?? 500 * 2 ** attempt));
          continue;
        }
        const reason = reasonOf(e.response?.data);
        throw new KeyledgerError(
          status === 404 ? 'E_IDP_NOT_FOUND' : status === 401 || status === 403 ? 'E_IDP_AUTH' : 'E_IDP_CALL',
          `google: ${what} failed${status ? ` (HTTP ${status}${reason ? ` ${reason}` : ''})` : ''}: ${e.message ?? 'no answer'}`,
          { category: status === 404 ? 'not-found' : 'external' },
        );
      }
    }
  }
}

/** Google's own reason (`insufficientPermissions`, `forbidden`, `authError`) from its error body. */
function reasonOf(data: unknown): string | undefined {
  const error = (data as { error?: { errors?: Array<{ reason?: unknown }> } } | undefined)?.error;
  const reason = error?.errors?.[0]?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

/** The service-account key, from `credentials` or read from `keyFile`; undefined with an `accessToken`. */
function serviceAccountKeyOf(
  options: z.output<typeof googleSourceOptionsSchema>,
  baseDir: string,
): GoogleServiceAccountKey | undefined {
  if (options.credentials) return options.credentials;
  if (!options.keyFile) return undefined;
  const file = resolve(baseDir, options.keyFile);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw sourceConfigError(`keyFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the fault: the private key, here.
    throw sourceConfigError(`keyFile: ${file} is not JSON (a service-account key file as Google downloads it)`);
  }
  const parsed = googleServiceAccountKeySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw sourceConfigError(`keyFile: ${file}: ${issue.path.join('.') || 'content'}: ${issue.message}`);
  }
  return parsed.data;
}

function sourceConfigError(message: string): ConfigError {
  return new ConfigError(`identity source google: ${message}`, { code: 'E_IDENTITY_SOURCE_CONFIG' });
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
