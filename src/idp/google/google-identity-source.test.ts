// The Google Workspace source authenticating itself, end to end against the sandbox (src/sandbox/idp/google/) with
// real RSA key pairs: a service account's key file exchanged at its token_uri for a token acting as the admin, users
// listed with the suspended ones, a leaver signed out; the token reused until five minutes before it expires and
// renewed once on a 401; a key Google never saw, an expired assertion, a subject outside the domain, a non-admin
// subject and an undelegated scope each refused with a typed error carrying Google's words and never the key.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DirectoryPerson } from '../../directory/identity-source.js';
import { KeyledgerError } from '../../errors/keyledger-error.js';
import { fixedClock } from '../../runtime/clock.js';
import { GOOGLE_SANDBOX_ADMIN, GoogleSandbox } from '../../sandbox/idp/google/google-sandbox.js';
import { GOOGLE_DIRECTORY_READONLY_SCOPE } from '../../sandbox/idp/google/google-token-endpoint.js';
import type { GcpServiceAccountKeyFile } from '../../sandbox/providers/gcp/gcp-key-format.js';
import { SandboxServer } from '../../sandbox/sandbox-server.js';
import { readIdentitySourcesFile } from '../identity-sources-file.js';
import { GoogleIdentitySource, type GoogleSourceOptions } from './google-identity-source.js';
import { GoogleTokenError } from './google-service-account-token.js';

const people = Array.from({ length: 12 }, (_, index) => ({
  email: `person${index}@example.com`,
  name: `Person ${index}`,
  login: `person${index}`,
  status: index % 4 === 1 ? ('left' as const) : ('active' as const),
}));
const leavers = people.filter((person) => person.status === 'left').map((person) => person.email);

const clock = fixedClock('2026-12-07T09:00:00.000Z');
let sandbox: GoogleSandbox;
let server: SandboxServer;
let keyFile: GcpServiceAccountKeyFile;
let work: string;

beforeAll(async () => {
  sandbox = new GoogleSandbox({ clock });
  server = new SandboxServer(sandbox, { rateLimit: null });
  sandbox.setUrl(await server.start());
  sandbox.load({ people, keys: [] });
  keyFile = sandbox.serviceAccountKeyFile();
  work = await mkdtemp(join(tmpdir(), 'keyledger-google-idp-'));
});
afterAll(async () => {
  await server.stop();
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => {
  clock.set('2026-12-07T09:00:00.000Z');
  sandbox.tokens.setDelegatedScopes(keyFile.client_email, [
    'https://www.googleapis.com/auth/admin.directory.user.readonly',
    'https://www.googleapis.com/auth/admin.directory.user.security',
  ]);
});

function source(options: Partial<GoogleSourceOptions> = {}, context: { clock?: typeof clock } = {}) {
  return new GoogleIdentitySource(
    { credentials: { ...keyFile }, subject: GOOGLE_SANDBOX_ADMIN, rootUrl: `${server.url}/`, ...options },
    { clock: context.clock ?? clock, sleep: async () => {} },
  );
}

async function collect(iterable: AsyncIterable<DirectoryPerson>): Promise<DirectoryPerson[]> {
  const all: DirectoryPerson[] = [];
  for await (const person of iterable) all.push(person);
  return all;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: Error) => error,
  );
}

/** Neither the key nor any line of its PEM body is in the error's message, JSON or stack. */
function expectNoKeyMaterial(error: Error, privateKeyPem: string): void {
  const lines = privateKeyPem.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
  const text = `${error.message}\n${JSON.stringify(error)}\n${error.stack ?? ''}`;
  for (const line of lines) expect(text).not.toContain(line);
  expect(text).not.toContain('PRIVATE KEY');
}

const exchanges = () => server.requestCounts()['google:POST /token'] ?? 0;

describe('the Google source as a service account with domain-wide delegation', () => {
  it('lists everyone, the suspended with their status, and signs a leaver out', async () => {
    const before = exchanges();
    const google = source();
    const listed = await collect(google.listPeople());
    expect(listed.map((person) => person.email).sort()).toEqual(people.map((person) => person.email).sort());
    expect(
      listed
        .filter((person) => person.status === 'suspended')
        .map((person) => person.email)
        .sort(),
    ).toEqual([...leavers].sort());
    const result = await google.revokeSessions({
      id: leavers[0]!,
      email: leavers[0]!,
      status: 'deprovisioned',
      source: 'scim',
    });
    expect(result.revoked).toBe(true);
    expect(sandbox.people.find(leavers[0]!)?.sessions).toBe(0);
    // One exchange served both calls; the sandbox checked its signature, aud, scope, exp and sub.
    expect(exchanges() - before).toBe(1);
    expect(sandbox.tokens.exchanges.at(-1)).toMatchObject({
      account: keyFile.client_email,
      subject: GOOGLE_SANDBOX_ADMIN,
      status: 200,
    });
  });

  it('keeps the token until five minutes before it expires, then exchanges again', async () => {
    const google = source();
    const before = exchanges();
    await collect(google.listPeople());
    clock.advance(50 * 60_000);
    await collect(google.listPeople());
    expect(exchanges() - before).toBe(1);
    clock.advance(6 * 60_000);
    await collect(google.listPeople());
    expect(exchanges() - before).toBe(2);
  });

  it('renews the token once when the API answers 401, and the call goes through', async () => {
    const google = source();
    await collect(google.listPeople());
    const before = exchanges();
    const signOuts = server.requestCounts()['google:POST users/{userKey}/signOut'] ?? 0;
    sandbox.tokens.revokeIssuedTokens();
    const result = await google.revokeSessions({
      id: leavers[1]!,
      email: leavers[1]!,
      status: 'deprovisioned',
      source: 'scim',
    });
    expect(result.revoked).toBe(true);
    expect(exchanges() - before).toBe(1);
    expect((server.requestCounts()['google:POST users/{userKey}/signOut'] ?? 0) - signOuts).toBe(2);
  });

  it('shares one exchange between concurrent calls', async () => {
    const google = source();
    const before = exchanges();
    await Promise.all([collect(google.listPeople()), collect(google.listPeople()), collect(google.listPeople())]);
    expect(exchanges() - before).toBe(1);
  });
});

describe('refusals, typed, with Google’s message and without the key', () => {
  it('a key Google never saw: invalid_grant, Invalid JWT Signature', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const strange = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const error = await failure(collect(source({ credentials: { ...keyFile, private_key: strange } }).listPeople()));
    expect(error).toBeInstanceOf(GoogleTokenError);
    expect((error as GoogleTokenError).code).toBe('E_IDP_AUTH');
    expect((error as GoogleTokenError).oauthError).toBe('invalid_grant');
    expect(error.message).toContain('Invalid JWT Signature.');
    expect(error.message).toContain(keyFile.client_email);
    expectNoKeyMaterial(error, strange);
  });

  it('an expired assertion (a clock two hours behind): invalid_grant, short-lived token', async () => {
    const late = fixedClock('2026-12-07T07:00:00.000Z');
    const error = await failure(collect(source({}, { clock: late }).listPeople()));
    expect((error as GoogleTokenError).oauthError).toBe('invalid_grant');
    expect(error.message).toContain('Token must be a short-lived token (60 minutes)');
    expectNoKeyMaterial(error, keyFile.private_key);
  });

  it('a subject outside the domain: invalid_grant, Invalid email or User ID', async () => {
    const error = await failure(collect(source({ subject: 'nobody@elsewhere.example' }).listPeople()));
    expect((error as GoogleTokenError).oauthError).toBe('invalid_grant');
    expect(error.message).toContain('Invalid email or User ID');
    expect(error.message).toContain('nobody@elsewhere.example');
    expectNoKeyMaterial(error, keyFile.private_key);
  });

  it('a subject who is not an admin: the token is issued, the Directory API answers 403', async () => {
    const error = await failure(collect(source({ subject: 'person0@example.com' }).listPeople()));
    expect(error).toBeInstanceOf(KeyledgerError);
    expect((error as KeyledgerError).code).toBe('E_IDP_AUTH');
    expect(error.message).toMatch(/HTTP 403 forbidden.*Not Authorized to access this resource\/api/);
  });

  it('a scope the admin did not delegate: unauthorized_client', async () => {
    sandbox.tokens.setDelegatedScopes(keyFile.client_email, [GOOGLE_DIRECTORY_READONLY_SCOPE]);
    const error = await failure(collect(source().listPeople()));
    expect((error as GoogleTokenError).oauthError).toBe('unauthorized_client');
    expect(error.message).toContain('HTTP 401 unauthorized_client');
    expect(error.message).toContain('not authorized for any of the scopes requested');
  });

  it('asking only for the read scope lists people, and signOut is refused for want of its scope', async () => {
    const google = source({ scopes: [GOOGLE_DIRECTORY_READONLY_SCOPE] });
    expect(await collect(google.listPeople())).toHaveLength(people.length);
    const error = await failure(
      google.revokeSessions({ id: leavers[2]!, email: leavers[2]!, status: 'deprovisioned', source: 'scim' }),
    );
    expect(error.message).toMatch(/HTTP 403 insufficientPermissions.*insufficient authentication scopes/);
  });
});

describe('configuration', () => {
  it('reads a relative keyFile from the identity-sources file’s folder', async () => {
    // The source built from the file runs on the system clock: the sandbox's must agree.
    clock.set(new Date());
    const folder = await mkdtemp(join(work, 'config-'));
    await writeFile(join(folder, 'workspace-sa.json'), JSON.stringify(keyFile), { mode: 0o600 });
    await writeFile(
      join(folder, 'identity-sources.json'),
      JSON.stringify({ google: { keyFile: 'workspace-sa.json', subject: GOOGLE_SANDBOX_ADMIN, rootUrl: server.url } }),
    );
    const [google] = await readIdentitySourcesFile({
      env: { KEYLEDGER_IDENTITY_SOURCES_FILE: join(folder, 'identity-sources.json') },
      cwd: work,
      dataDir: work,
    });
    expect(await collect(google!.listPeople())).toHaveLength(people.length);
  });

  it('refuses a key file that is not JSON, or whose key is not a PEM, naming the file and never its content', async () => {
    const broken = join(work, 'broken.json');
    await writeFile(broken, `{"private_key": "${keyFile.private_key.replace(/\n/g, '\\n')}", oops}`);
    const notJson = (() => {
      try {
        source({ credentials: undefined, keyFile: broken });
      } catch (error) {
        return error as Error;
      }
    })();
    expect(notJson?.message).toBe(
      `identity source google: keyFile: ${broken} is not JSON (a service-account key file as Google downloads it)`,
    );
    expect(() => source({ credentials: { ...keyFile, private_key: 'not a key at all, canary-9f3e' } })).toThrow(
      /private_key is not a PEM private key/,
    );
    expect(() => source({ credentials: { ...keyFile, private_key: 'not a key at all, canary-9f3e' } })).not.toThrow(
      /canary/,
    );
  });

  it('needs exactly one credential and, for a service account, a subject', () => {
    expect(() => source({ subject: undefined })).toThrow(/subject/);
    expect(() => source({ accessToken: 'ya29.canary' })).toThrow(/exactly one of keyFile/);
    expect(() => source({ accessToken: 'ya29.canary' })).not.toThrow(/ya29/);
  });
});
