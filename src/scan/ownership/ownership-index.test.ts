// A finding is attributed by its secret's keyed fingerprint, or — for the identifier half of a credential pair, such
// as an AWS access key id — by the registry's provider_key_id.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { type FingerprintKey, fingerprintSecret } from '../../secrets/secret-fingerprint.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { FingerprintOwnershipIndex } from './ownership-index.js';

const key: FingerprintKey = { key: randomBytes(32), version: 'v1' };

it('attributes a secret by fingerprint and a long provider key id by its text, never a short id', () => {
  const secret = new SecretValue('canary-wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  const index = new FingerprintOwnershipIndex(
    [
      {
        keyId: 'infra-aws-deploy',
        ownerTeam: 'infra',
        fingerprint: fingerprintSecret(secret, key),
        providerKeyId: 'AKIAIOSFODNN7EXAMPLE',
      },
      { keyId: 'ci-gitlab', providerKeyId: '17' },
    ],
    key,
  );
  expect(index.ownerOf(secret)).toEqual({ keyId: 'infra-aws-deploy', ownerTeam: 'infra' });
  expect(index.ownerOf(new SecretValue('AKIAIOSFODNN7EXAMPLE'))).toEqual({
    keyId: 'infra-aws-deploy',
    ownerTeam: 'infra',
    matchedBy: 'provider-key-id',
  });
  expect(index.ownerOf(new SecretValue('17'))).toBeUndefined();
  expect(index.ownerOf(new SecretValue('AKIAIOSFODNN7OTHERID'))).toBeUndefined();
});
