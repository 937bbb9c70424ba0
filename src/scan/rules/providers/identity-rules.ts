// Identity, secrets management and keys: Okta, Auth0, 1Password, HashiCorp Vault, Doppler, OpenShift, age,
// PuTTY private keys, Docker registry credentials.
import { BASE62, fakeChars, t, URL_SAFE } from '../canary-secrets.js';
import { type BuiltinRule, namedSecretRule, tokenRule } from '../rule-builders.js';

export const IDENTITY_RULES: BuiltinRule[] = [
  namedSecretRule({
    id: 'okta-access-token',
    description: 'Okta API token',
    names: ['okta'],
    value: '00[0-9A-Za-z_-]{40}',
    variable: 'OKTA_API_TOKEN',
    sample: t('00', fakeChars(1801, 40, URL_SAFE)),
  }),
  namedSecretRule({
    id: 'auth0-client-secret',
    description: 'Auth0 application client secret',
    names: ['auth0'],
    value: '[0-9A-Za-z_-]{64}',
    variable: 'AUTH0_CLIENT_SECRET',
    sample: fakeChars(1802, 64, URL_SAFE),
  }),
  tokenRule({
    id: '1password-service-account-token',
    description: '1Password service account token',
    token: 'ops_eyJ[0-9A-Za-z+/]{250,1000}={0,3}',
    keywords: ['ops_eyj'],
    variable: 'OP_SERVICE_ACCOUNT_TOKEN',
    sample: t('ops_', 'eyJ', fakeChars(1803, 300, `${BASE62}+/`)),
  }),
  tokenRule({
    id: '1password-secret-key',
    description: '1Password account secret key',
    token: 'A3-[0-9A-Z]{6}-(?:[0-9A-Z]{11}|[0-9A-Z]{6}-[0-9A-Z]{5})-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}',
    keywords: ['a3-'],
    variable: 'OP_SECRET_KEY',
    sample: [
      'A3',
      fakeChars(1804, 6, '0123456789ABCDEFGHJKLMNPQRSTVWXYZ'),
      fakeChars(1805, 6, '0123456789ABCDEFGHJKLMNPQRSTVWXYZ'),
      fakeChars(1806, 5, '0123456789ABCDEFGHJKLMNPQRSTVWXYZ'),
      fakeChars(1807, 5, '0123456789ABCDEFGHJKLMNPQRSTVWXYZ'),
      fakeChars(1808, 5, '0123456789ABCDEFGHJKLMNPQRSTVWXYZ'),
      fakeChars(1809, 5, '0123456789ABCDEFGHJKLMNPQRSTVWXYZ'),
    ].join('-'),
  }),
  tokenRule({
    id: 'vault-service-token',
    description: 'HashiCorp Vault service token',
    token: String.raw`hvs\.[0-9A-Za-z_-]{90,120}`,
    keywords: ['hvs.'],
    variable: 'VAULT_TOKEN',
    sample: t('hvs', '.', fakeChars(1810, 95, URL_SAFE)),
  }),
  tokenRule({
    id: 'vault-batch-token',
    description: 'HashiCorp Vault batch token',
    token: String.raw`hvb\.[0-9A-Za-z_-]{138,300}`,
    keywords: ['hvb.'],
    variable: 'VAULT_TOKEN',
    sample: t('hvb', '.', fakeChars(1811, 150, URL_SAFE)),
  }),
  tokenRule({
    id: 'doppler-api-token',
    description: 'Doppler service or personal token',
    token: String.raw`dp\.(?:pt|st|sa|ct|scim|audit)\.[0-9A-Za-z]{40,44}`,
    keywords: ['dp.pt.', 'dp.st.', 'dp.sa.', 'dp.ct.', 'dp.scim.', 'dp.audit.'],
    variable: 'DOPPLER_TOKEN',
    sample: t('dp', '.st.', fakeChars(1812, 43)),
  }),
  tokenRule({
    id: 'openshift-user-token',
    description: 'OpenShift user token',
    token: 'sha256~[0-9A-Za-z_-]{43}',
    keywords: ['sha256~'],
    variable: 'OPENSHIFT_TOKEN',
    sample: t('sha256', '~', fakeChars(1813, 43, URL_SAFE)),
  }),
  tokenRule({
    id: 'age-secret-key',
    description: 'age encryption secret key',
    token: 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}',
    keywords: ['age-secret-key-1'],
    variable: 'AGE_KEY',
    sample: t('AGE-SECRET-', 'KEY-1', fakeChars(1814, 58, 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L')),
  }),
  {
    definition: {
      id: 'putty-private-key',
      description: 'PuTTY private key file (unencrypted)',
      regex: String.raw`PuTTY-User-Key-File-[23]: [0-9a-z-]{3,30}\r?\nEncryption: none[\s\S]{0,1000}?Private-Lines: [0-9]{1,3}\r?\n((?:[0-9A-Za-z+/=]{1,64}\r?\n){0,15}[0-9A-Za-z+/=]{1,64})`,
      keywords: ['putty-user-key-file-'],
      tags: [],
      allowlists: [],
      span: 16_384,
    },
    fixture: {
      ruleId: 'putty-private-key',
      positives: [
        {
          text: t(
            'PuTTY-User-',
            'Key-File-3: ssh-ed25519\nEncryption: none\nComment: canary\nPublic-Lines: 2\n',
            fakeChars(1815, 64),
            '\n',
            fakeChars(1816, 4),
            '\nPrivate-Lines: 1\n',
            fakeChars(1817, 44),
            '\n',
          ),
          secret: fakeChars(1817, 44),
        },
      ],
      negatives: ['PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: aes256-cbc\nPrivate-Lines: 1\n'],
    },
  },
  {
    definition: {
      id: 'docker-config-auth',
      description: 'Docker registry credentials in a config.json / .dockerconfigjson auths entry',
      regex: String.raw`"auths"\s{0,8}:\s{0,8}\{[^}]{0,300}?"auth"\s{0,8}:\s{0,8}"([0-9A-Za-z+/]{16,400}={0,2})"`,
      keywords: ['"auths"'],
      entropy: 3,
      tags: [],
      allowlists: [],
    },
    fixture: {
      ruleId: 'docker-config-auth',
      positives: [
        {
          text: `{"auths": {"registry.example.com": {"auth": "${Buffer.from(`ci-bot:${fakeChars(1818, 24)}`).toString('base64')}"}}}`,
          secret: Buffer.from(`ci-bot:${fakeChars(1818, 24)}`).toString('base64'),
        },
      ],
      negatives: ['{"auths": {"registry.example.com": {}}}', '{"auth": "none"}'],
    },
  },
];
