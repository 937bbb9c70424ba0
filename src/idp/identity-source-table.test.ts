// The table reaches every source by name: the inbound ones (HR file, SCIM) and the outbound providers (Okta,
// Entra, Google), each built through createIdentitySource against its sandbox, and a bad option is a ConfigError
// naming the field, never the value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/keyledger-error.js';
import type { SandboxSeedPerson } from '../sandbox/sandbox-seed.js';
import { createIdentitySource, identitySourceTable } from './identity-source-table.js';
import { OUTBOUND_IDENTITY_SOURCES } from './outbound-identity-sources.js';
import { type OutboundIdpSandboxes, startOutboundIdpSandboxes } from './test-support/outbound-idp-sandboxes.js';

const people: SandboxSeedPerson[] = [
  { email: 'ada@example.com', name: 'Ada', login: 'ada', status: 'active' },
  { email: 'bob@example.com', name: 'Bob', login: 'bob', status: 'left' },
];

let idps: OutboundIdpSandboxes;
beforeAll(async () => {
  idps = await startOutboundIdpSandboxes(people);
});
afterAll(() => idps.stop());

const context = {
  env: {},
  cwd: process.cwd(),
  clock: () => new Date('2026-01-01T00:00:00Z'),
  // The outbound sources keep nothing in the store.
  db: undefined as never,
};

describe('identitySourceTable', () => {
  it('has one entry per outbound provider, with its description', () => {
    for (const name of Object.keys(OUTBOUND_IDENTITY_SOURCES) as Array<keyof typeof OUTBOUND_IDENTITY_SOURCES>) {
      expect(identitySourceTable[name]?.name).toBe(name);
      expect(identitySourceTable[name]?.description).toBe(OUTBOUND_IDENTITY_SOURCES[name].description);
    }
    expect(Object.keys(identitySourceTable).sort()).toEqual(['entra', 'google', 'hr-file', 'okta', 'scim']);
  });

  it.each(['okta', 'entra', 'google'] as const)('builds %s through the table and reads its people', async (name) => {
    const source = createIdentitySource(name, idps.options[name], context);
    expect(source.name).toBe(name);
    const seen: string[] = [];
    for await (const person of source.listPeople()) seen.push(`${person.email}:${person.status}`);
    expect(seen.sort()).toEqual([
      'ada@example.com:active',
      expect.stringMatching(/^bob@example\.com:(deprovisioned|suspended)$/),
    ]);
    expect(typeof source.revokeSessions).toBe('function');
  });

  it('refuses bad options with a ConfigError that names the field, not the value', () => {
    const secret = 'canary-not-a-url-0f9e8d7c';
    let caught: unknown;
    try {
      createIdentitySource('okta', { orgUrl: secret }, context);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).not.toContain(secret);
  });
});
