import { describe, expect, it } from 'vitest';
import { keyCapabilities, type Provider, type ProviderCapabilities } from './provider.js';

const capabilities: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  lastUsed: true,
  nativeRotate: false,
  manual: false,
  kinds: { ticketed: { create: false, manual: true, note: 'made by a person' } },
};

function provider(kindOf?: Provider['kindOf']): Provider {
  return {
    name: 'example',
    capabilities: () => structuredClone(capabilities),
    ...(kindOf ? { kindOf } : {}),
  } as Provider;
}

describe('keyCapabilities', () => {
  it("lays the key's kind over the adapter's capabilities", () => {
    expect(keyCapabilities(provider(), { kind: 'ticketed' })).toMatchObject({
      create: false,
      manual: true,
      revoke: true,
      kind: 'ticketed',
      note: 'made by a person',
    });
  });

  it('reads the kind off the account when the entry names none, and the entry wins when it does', () => {
    const byAccount = provider((account) => (account?.includes('/') ? undefined : 'ticketed'));
    expect(keyCapabilities(byAccount, { account: 'acme' })).toMatchObject({ create: false, kind: 'ticketed' });
    expect(keyCapabilities(byAccount, { account: 'acme/api' })).toMatchObject({ create: true, manual: false });
    expect(keyCapabilities(byAccount, { account: 'acme', kind: 'other' })).toMatchObject({
      create: true,
      kind: 'other',
    });
  });

  it('is the adapter capabilities, without the kinds table, for a provider of one kind', () => {
    const result = keyCapabilities(provider(), { account: 'anything' });
    expect(result).not.toHaveProperty('kinds');
    expect(result).not.toHaveProperty('kind');
    expect(result.create).toBe(true);
  });
});
