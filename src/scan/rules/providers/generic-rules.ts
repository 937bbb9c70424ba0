// Generic forms, whoever issued the secret: PEM private keys, JSON Web Tokens, connection strings with a
// password, and the generic "secret assigned to a secret-named variable" rule, each with its cases.
import { BASE62, fakeChars, t } from '../canary-secrets.js';
import { ASSIGN, type BuiltinRule, customRule, END } from '../rule-builders.js';
import { allowlistDefinition } from '../rule-definition.js';

/** Values that are placeholders, references or plain words, not secrets. */
const PLACEHOLDER_VALUES = allowlistDefinition({
  description: 'placeholders, variable references and identifiers',
  regexes: [
    '^\\$\\{?[\\w.-]+\\}?$',
    '^\\{\\{.*\\}\\}$',
    '^<[^>]*>$',
    '(?i)^(?:true|false|null|nil|none|undefined|changeme|change_me|placeholder|redacted|example|sample|dummy)$',
    '(?i)(?:xxxx|\\*\\*\\*\\*|your[_-]?(?:api[_-]?)?(?:key|token|secret|password)|example|placeholder)',
    '^[A-Za-z_.-]+$',
    '^[a-z]+(?:[A-Z][a-z0-9]*)+$',
  ],
});

const pemBody = Array.from({ length: 4 }, (_, i) => fakeChars(60 + i, 64, `${BASE62}+/`)).join('\n');
const pem = t('-----BEGIN RSA PRIVATE ', 'KEY-----\n', pemBody, '\n-----END RSA PRIVATE ', 'KEY-----');
const jwt = t(
  Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url'),
  '.',
  Buffer.from('{"sub":"canary-user-42","iat":1700000000}').toString('base64url'),
  '.',
  fakeChars(53, 43, `${BASE62}_-`),
);
const dbPassword = fakeChars(54, 20);
const genericSecret = fakeChars(55, 32);

/** Kept last in the rule set: a generic finding gives way to a specific rule's finding of the same secret. */
export const GENERIC_RULES: BuiltinRule[] = [
  customRule({
    id: 'private-key',
    description: 'Private key in PEM form (RSA, EC, DSA, OpenSSH, PKCS#8, PGP)',
    regex:
      '(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\\s\\S]{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----',
    keywords: ['-----begin'],
    span: 32_768,
    positives: [{ text: `# deploy key\n${pem}\n`, secret: pem }],
    negatives: ['Paste the key between -----BEGIN PRIVATE KEY----- and -----END PRIVATE KEY----- markers.'],
  }),
  customRule({
    id: 'jwt',
    description: 'JSON Web Token',
    regex: `\\b(eyJ[0-9A-Za-z_-]{15,}\\.eyJ[0-9A-Za-z_-]{15,}\\.[0-9A-Za-z_-]{10,})${END}`,
    keywords: ['eyj'],
    entropy: 3,
    span: 4096,
    positives: [{ text: `Authorization: Bearer ${jwt}\n`, secret: jwt }],
    negatives: ['const prefix = "eyJ"; // every JWT starts with it'],
  }),
  customRule({
    id: 'connection-string-password',
    description: 'Database or broker connection string with an embedded password',
    regex:
      '(?i)\\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?|mssql|sqlserver|jdbc:[a-z]{1,16})://[^\\s:/@\'"\\x60]{1,64}:([^\\s:/@\'"\\x60]{3,128})@[0-9A-Za-z_.-]{1,255}',
    keywords: ['postgres', 'mysql', 'mariadb', 'mongodb', 'redis', 'amqp', 'mssql', 'sqlserver', 'jdbc:'],
    allowlists: [
      allowlistDefinition({
        description: 'password placeholders and references',
        regexes: [
          '^\\$\\{?[\\w.-]+\\}?$',
          '^\\{\\{.*\\}\\}$',
          '^<[^>]*>$',
          '^%[sv]$',
          '(?i)^(?:password|passwd|pass|pwd|secret|changeme|example|test|user|username)$',
          '^\\*+$',
          '(?i)^x+$',
        ],
      }),
    ],
    positives: [
      { text: `DATABASE_URL=postgres://app:${dbPassword}@db.internal:5432/app`, secret: dbPassword },
      { text: `mongodb+srv://svc:${dbPassword}@cluster0.example.net/`, secret: dbPassword },
    ],
    negatives: [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable reference, a negative fixture
      'DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app',
      'postgres://user:password@localhost/db',
      'redis://localhost:6379',
    ],
  }),
  customRule({
    id: 'generic-api-key',
    description: 'Generic secret assigned to a key, token, secret or password variable',
    // No \\b before the name: a word boundary ahead of a counted repeat multiplies RE2's DFA states (8x slower).
    regex: `[\\w.-]{0,40}?(?i:api[_.-]?key|apikey|access[_.-]?key|secret|token|passw(?:or)?d|credential|auth[_.-]?key|client[_.-]?secret)[\\w.-]{0,20}${ASSIGN}([0-9A-Za-z_.+/=~-]{12,150})(?:['"\\x60\\s;,)]|\\\\[nr]|$)`,
    keywords: [
      'apikey',
      'api_key',
      'api-key',
      'api.key',
      'accesskey',
      'access_key',
      'access-key',
      'access.key',
      'authkey',
      'auth_key',
      'auth-key',
      'auth.key',
      'secret',
      'token',
      'passw',
      'credential',
    ],
    entropy: 3.5,
    allowlists: [PLACEHOLDER_VALUES],
    positives: [
      { text: `api_key = "${genericSecret}"\n`, secret: genericSecret },
      { text: `{"client_secret": "${genericSecret}"}`, secret: genericSecret },
    ],
    negatives: [
      'api_key = "your_api_key_here"',
      'const token = getToken();',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable reference, a negative fixture
      'password: ${DB_PASSWORD}',
      'secret = "thisIsACamelCaseIdentifier"',
      'tokenizer.tokenType = TokenKind.Identifier;',
    ],
  }),
];
