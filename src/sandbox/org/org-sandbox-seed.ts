// Turns a generated organisation into what the provider sandboxes load: each provider's keys with their secrets,
// and the people who own them.
import type { SandboxSeed } from '../sandbox-seed.js';
import type { Organisation } from './org-model.js';

export function orgSandboxSeed(org: Organisation, providers?: ReadonlySet<string>): SandboxSeed {
  return {
    people: org.people.map((person) => ({
      email: person.email,
      name: person.name,
      login: person.login,
      status: person.status,
    })),
    keys: org.keys
      .filter((key) => !providers || providers.has(key.provider))
      .map((key) => ({
        provider: key.provider,
        kind: key.kind,
        account: key.account,
        providerKeyId: key.providerKeyId,
        secret: key.secret,
        ...(key.publicKey ? { publicKey: key.publicKey } : {}),
        name: key.name,
        createdAt: key.createdAt,
        lastUsedAt: key.lastUsedAt,
        ...(key.expiresAt ? { expiresAt: key.expiresAt } : {}),
        status: 'active' as const,
        createdBy: key.createdBy,
        ...(key.holder ? { holder: key.holder } : {}),
        permissions: key.permissions,
        ...(key.strayUseFrom ? { strayUseFrom: key.strayUseFrom } : {}),
        ...(key.sharedUseFrom ? { sharedUseFrom: key.sharedUseFrom } : {}),
        ...(key.rotatedOut ? { rotatedOut: key.rotatedOut } : {}),
      })),
  };
}
