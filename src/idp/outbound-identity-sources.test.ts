// The Okta, Entra and Google adapters against their sandboxes (src/sandbox/idp/): everyone listed with the right
// status across pages (Okta's DEPROVISIONED users included, which its plain list leaves out), sessions revoked at
// the provider, a 429 waited out, a missing user answered without throwing, a refused credential reported with
// the provider's code and without the credential.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DirectoryPerson } from '../directory/identity-source.js';
import type { SandboxSeedPerson } from '../sandbox/sandbox-seed.js';
import { outboundIdentitySource } from './outbound-identity-sources.js';
import { type OutboundIdpSandboxes, startOutboundIdpSandboxes } from './test-support/outbound-idp-sandboxes.js';

// More people than one page of each provider (Okta 200, Entra 100, Google 500 asked per page).
const people: SandboxSeedPerson[] = Array.from({ length: 520 }, (_, index) => ({
  email: `person${index}@example.com`,
  name: `Person ${index}`,
  login: `person${index}`,
  status: index % 10 === 3 ? 'left' : 'active',
}));
/** A real RSA key Google never saw (the Google source's credential is its service account's private key). */
const strangeKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const leavers = people.filter((person) => person.status === 'left').map((person) => person.email);

let idps: OutboundIdpSandboxes;
beforeAll(async () => {
  idps = await startOutboundIdpSandboxes(people);
});
afterAll(() => idps.stop());

async function collect(iterable: AsyncIterable<DirectoryPerson>): Promise<DirectoryPerson[]> {
  const all: DirectoryPerson[] = [];
  for await (const person of iterable) all.push(person);
  return all;
}

const expectedStatus = { okta: 'deprovisioned', entra: 'deprovisioned', google: 'suspended' } as const;

describe.each(['okta', 'entra', 'google'] as const)('%s', (name) => {
  it('lists everyone across pages, leavers with their status', async () => {
    const listed = await collect(outboundIdentitySource(name, idps.options[name]).listPeople());
    expect(listed).toHaveLength(people.length);
    expect(new Set(listed.map((person) => person.email)).size).toBe(people.length);
    expect(
      listed
        .filter((person) => person.status !== 'active')
        .map((person) => person.email)
        .sort(),
    ).toEqual([...leavers].sort());
    expect(listed.filter((person) => person.status !== 'active').every((p) => p.status === expectedStatus[name])).toBe(
      true,
    );
    expect(listed.every((person) => person.source === name && person.externalId)).toBe(true);
  });

  it('revokes a leaver’s sessions at the provider, after a 429', async () => {
    const server = idps[name].server;
    const operation = {
      okta: 'okta:DELETE /api/v1/users/{id}/sessions',
      entra: 'entra:POST /users/{id}/revokeSignInSessions',
      google: 'google:POST users/{userKey}/signOut',
    }[name];
    server.faults.add({ operation, kind: 'rate-limit', retryAfterSeconds: 1, times: 1 });
    const source = outboundIdentitySource(name, idps.options[name]);
    const leaver = leavers[0]!;
    const result = await source.revokeSessions!({ id: leaver, email: leaver, status: 'deprovisioned', source: 'scim' });
    expect(result.revoked).toBe(true);
    const user = idps[name].sandbox.people.find(leaver)!;
    expect(user.sessions).toBe(0);
    expect(idps[name].sandbox.people.revocations.filter((r) => r.email === leaver)).toHaveLength(1);
    expect(server.requestCounts()[operation]).toBe(2);
  });

  it('answers a person the provider does not know without throwing', async () => {
    const source = outboundIdentitySource(name, idps.options[name]);
    const result = await source.revokeSessions!({
      id: 'x',
      email: 'nobody@example.com',
      status: 'deprovisioned',
      source: 'scim',
    });
    expect(result).toEqual({ revoked: false, detail: `${name} has no user nobody@example.com` });
  });

  it('reports a refused credential with the provider’s answer and without the credential', async () => {
    const wrong = {
      okta: { ...idps.options.okta, token: '00wrongTokenCanary-AKIAOKTA0000' },
      entra: { ...idps.options.entra, clientSecret: 'wrongSecretCanary~AKIAENTRA0000' },
      // The service account's key file with a key Google never saw: Google's invalid_grant.
      google: {
        ...idps.options.google,
        credentials: { ...(idps.options.google.credentials as Record<string, unknown>), private_key: strangeKey },
      },
    }[name];
    const source = outboundIdentitySource(name, wrong);
    const error = await collect(source.listPeople()).then(
      () => undefined,
      (caught: Error) => caught,
    );
    expect(error?.message).toMatch(/401|invalid_client|invalid_grant/);
    expect(error?.message).not.toMatch(/Canary|PRIVATE KEY/);
    expect(error?.message).not.toContain(strangeKey.split('\n')[5]);
  });
});

it('refuses unknown sources and bad options by name, without echoing values', () => {
  expect(() => outboundIdentitySource('ldap', {})).toThrow(/unknown identity source "ldap"/);
  expect(() => outboundIdentitySource('okta', { orgUrl: 'not a url', token: 'secret-canary' })).toThrow(
    /identity source okta: orgUrl/,
  );
  try {
    outboundIdentitySource('okta', { orgUrl: 'not a url', token: 'secret-canary' });
  } catch (error) {
    expect((error as Error).message).not.toContain('secret-canary');
  }
});
