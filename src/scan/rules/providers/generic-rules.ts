// Generic forms, whoever issued the secret: PEM private keys, JSON Web Tokens, connection strings with a
// password, and the generic "secret assigned to a secret-named variable" rule, each with its cases.
import { BASE62, fakeChars, fakeUuid, t, URL_SAFE } from '../canary-secrets.js';
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

/** One part of a code identifier: a CamelCase or lower-case word, an acronym with a digit (R2, EC2), `_`, `$`. */
const IDENTIFIER_PART = '(?:[A-Z]?[a-z]{2,}|Id|[A-Z]{1,}[0-9]?|[0-9]{1,2}|[_$])';
const IDENTIFIER = `${IDENTIFIER_PART}+`;

/**
 * Values that are code, not secrets (issue 18): member paths (`leaked_credential_checks_1.LeakedCredentialChecks`,
 * `R2SlurperR2SourceSchema.Secret`), kebab-case or dotted words (`x-aws-ec2-metadata-token`), URL paths
 * (`/oauth2/v2.0/token`), and runs of one repeated character (`xxxxxx`, `000000`).
 */
const CODE_VALUES = allowlistDefinition({
  description: 'code identifiers, member paths, word lists, URL paths and repeated characters',
  regexes: [
    `^${IDENTIFIER}(?:\\.${IDENTIFIER})+;?$`,
    // A constant's name (`FLOW_PASSWORD_REQUIRED_V2`).
    '^[A-Z]{2,}[0-9]?(?:_[A-Z]+[0-9]{0,2})+$',
    // snake_case words (`token_sha256_to_refresh`, a constant's value restating its name).
    '^[a-z]+[0-9]{0,3}(?:_[a-z]+[0-9]{0,3})+$',
    '^[A-Z]{2,}[0-9]?(?:_[A-Z]+[0-9]{0,2})+$',
    // A CamelCase type or variable name (`TokenListResponsesV4PagePaginationArray` in an import list).
    '^(?:[a-z]{2,}[0-9]{0,2}|[A-Z][a-z]{2,}[0-9]{0,2}|[A-Z]{2,5}[0-9]?)(?:[A-Z][a-z]{1,}[0-9]{0,2}|[A-Z]{1,5}[0-9]{0,2})+$',
    '^[A-Za-z][a-z0-9]*(?:[-.][A-Za-z][a-z0-9]*)+$',
    '^/[a-z0-9_.-]+(?:/[a-z0-9_.-]*)*$',
    // The rest of a URL after its scheme's colon (`credential. See https://aka.ms/...`), relative paths, file names.
    '^//',
    '^\\.{1,2}/',
    '\\.(?:[cm]?js|tsx?|json|map|css|html?|md)$',
    // Code: a comparison inside the value (`e.credentialType===te.ID_TOKEN`), not base64 padding at its end.
    '=={1,2}[^=]',
    `(?:${[...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz*.=_-'].map((c) => `${c.replace(/[*.]/, '\\$&')}{6}`).join('|')})`,
  ],
});

/** Names that say the value is an id, not a secret (`credentialsId: '<uuid>'`, `secret_key_id = ...`). */
const ID_NAMES = allowlistDefinition({
  description: 'values assigned to an id',
  regexTarget: 'match',
  regexes: [String.raw`(?:[_.-][Ii][Dd]|[a-z]Id|[a-z]ID)['"\x60]?[ \t]*(?:[:=,>]|=>)`],
});

/** Secrets Manager ARNs (`arn:aws:secretsmanager:...:secret:MyDatabaseSecret-a1b2c3`): a secret's name, not it. */
const SECRET_ARNS = allowlistDefinition({
  description: 'AWS Secrets Manager ARNs',
  regexTarget: 'line',
  regexes: ['arn:aws[a-z-]*:secretsmanager:', String.raw`:secret:[\w/+=.@-]+-[0-9A-Za-z]{6}\b`],
});

/** Files whose values are hashes and resolved versions (lockfiles), or paths and names (source maps), not secrets. */
const LOCKFILES = allowlistDefinition({
  description: 'lockfiles',
  paths: [
    String.raw`\.map$`,
    String.raw`(?:^|/)(?:package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lock|Cargo\.lock|poetry\.lock|Pipfile\.lock|Gemfile\.lock|composer\.lock|go\.sum|packages\.lock\.json|gradle\.lockfile)$`,
  ],
});

const pemBody = Array.from({ length: 4 }, (_, i) => fakeChars(60 + i, 64, `${BASE62}+/`)).join('\n');
const pem = t('-----BEGIN RSA PRIVATE ', 'KEY-----\n', pemBody, '\n-----END RSA PRIVATE ', 'KEY-----');
const pemInString = pem.replaceAll('\n', '\\n');
const jwt = t(
  Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url'),
  '.',
  Buffer.from('{"sub":"canary-user-42","iat":1700000000}').toString('base64url'),
  '.',
  fakeChars(53, 43, `${BASE62}_-`),
);
const dbPassword = fakeChars(54, 20);
const genericSecret = fakeChars(55, 32);

/** The start of a curl command, up to the option: the command may run over five continued lines. */
const CURL_COMMAND = String.raw`\bcurl\b(?:[^\r\n]*?[\r\n]{1,2}){0,5}?[^\r\n]*?[ \t\r\n]`;
/** A header's credential: token characters, at least eight. */
const HEADER_VALUE = String.raw`[\w=~@.+/-]{8,}`;
/** `-u user:password` unquoted, each side bare or quoted on its own. */
const USER_PART = String.raw`(?:[\w$@.-]+|"[^"\r\n]{3,200}"|'[^'\r\n]{3,200}')`;
const PASSWORD_PART = String.raw`(?:[\w\${}@.-]+|"[^"\r\n]{3,200}"|'[^'\r\n]{3,200}')`;
/** `kind: Secret`, quoted or not. */
const K8S_SECRET_KIND = String.raw`\bkind:[ \t]*["']?secret\b["']?`;
/** One `name: value` entry of a Secret's data: base64 (inline or block scalar), a template, or empty. */
const K8S_DATA_ENTRY = String.raw`([\w.-]+:(?:[ \t]*[|>][-+]?\s+)?[ \t]*(?:["']?[0-9a-z+/]{10,}={0,3}["']?|\{\{[^}\n]{1,200}\}\}|""|''))`;

const jwtBase64 = Buffer.from(
  t(
    Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url'),
    '.',
    Buffer.from('{"sub":"canary-user-43"}').toString('base64url'),
    '.',
    fakeChars(4101, 43, URL_SAFE),
  ),
).toString('base64');
const curlBearer = fakeChars(4102, 40);
const curlApiKey = fakeChars(4103, 32);
const curlPassword = fakeChars(4104, 16);
const k8sValue = Buffer.from(fakeChars(4105, 24)).toString('base64');

/** Kept last in the rule set: a generic finding gives way to a specific rule's finding of the same secret. */
export const GENERIC_RULES: BuiltinRule[] = [
  customRule({
    id: 'private-key',
    description: 'Private key in PEM form (RSA, EC, DSA, OpenSSH, PKCS#8, PGP)',
    regex:
      '(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\\s\\S]{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----',
    keywords: ['-----begin'],
    span: 32_768,
    positives: [
      { text: `# deploy key\n${pem}\n`, secret: pem },
      // Inside a JavaScript string with \n escapes, a common real leak (issue 18).
      { text: `const key = '${pemInString}\\n';\n`, secret: pemInString },
    ],
    negatives: ['Paste the key between -----BEGIN PRIVATE KEY----- and -----END PRIVATE KEY----- markers.'],
  }),
  customRule({
    id: 'jwt',
    description: 'JSON Web Token',
    // Unsigned tokens (alg none) end after the payload's dot; `/` and `\\` appear in hand-edited ones.
    regex: `\\b(eyJ[0-9A-Za-z_-]{15,}\\.eyJ[0-9A-Za-z/\\\\_-]{15,}\\.(?:[0-9A-Za-z/\\\\_-]{10,}={0,2})?)${END}`,
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
    regex: `[\\w.-]{0,40}?(?i:api[_.-]?key|apikey|access[_.-]?key|secret|token|passw(?:or)?d|credential|auth[_.-]?key|client[_.-]?secret|[_.-]key|creds)[\\w.-]{0,20}${ASSIGN}([0-9A-Za-z_.+/=~-]{12,150})(?:['"\\x60\\s;,)]|\\\\[nr]|$)`,
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
      'creds',
      '_key',
      '-key',
      '.key',
    ],
    entropy: 3.5,
    allowlists: [PLACEHOLDER_VALUES, CODE_VALUES, ID_NAMES, SECRET_ARNS, LOCKFILES],
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
      // The look-alikes issue 18 names: member paths, constants restating their name, URL paths, ids, lockfiles.
      'Cloudflare.LeakedCredentialChecks = leaked_credential_checks_1.LeakedCredentialChecks;',
      'secret: R2SlurperR2SourceSchema.Secret;',
      'import { TokenListResponse, TokenListResponsesV4PagePaginationArray } from "./tokens";',
      'exports.CreateOAuth2TokenWithIAMCommand = CreateOAuth2TokenWithIAMCommand;',
      'const SESSION_TOKEN_QUERY_PARAM = "X-Amz-S3session-Token";',
      ' * Use a more secure credential. See https://aka.ms/azsdk/identity/mfa for details.',
      'import { FLOW_PASSWORD_REQUIRED_V2, FLOW_METHOD_SELECTION_REQUIRED_V2 } from "./flows";',
      'apiId: PublicApiId.RESET_PASSWORD_V2_START,',
      'FLOW_SIGN_UP_PASSWORD_REQUIRED_V2 = "FlowSignUpPasswordRequiredResultV2"',
      'SHA256_TOKEN_TO_REFRESH: "token_sha256_to_refresh",',
      'if(e.credentialType===te.ACCESS_TOKEN||e.credentialType===te.ACCESS_TOKEN_WITH_AUTH_SCHEME)',
      '"sources":["AuthToken.mjs","../../msal-common/dist-browser/account/AccountInfo.mjs"]',
      ' *   ARN: "aws:arn:secretsmanager:us-west-2:123456789012:secret:MyTestDatabaseSecret-a1b2c3",',
      'SecretId: "arn:aws:secretsmanager:us-west-2:123456789012:secret:MyTestDatabaseSecret-a1b2c3"',
      'const X_AWS_EC2_METADATA_TOKEN = "x-aws-ec2-metadata-token";',
      'const SIGNIN_TOKEN = "/oauth2/v2.0/token";',
      'const passwordField = form.elements.password_1.value;',
      `credentialsId: '${fakeUuid(56)}'`,
      'api_key = "xxxxxxxxxxxxxxxxxxxxxxxx"',
      { text: `  "access_token": "${genericSecret}"\n`, path: 'package-lock.json' },
      'tokenizer.tokenType = TokenKind.Identifier;',
    ],
  }),
  customRule({
    id: 'jwt-base64',
    description: 'JSON Web Token encoded once more in base64 (ZXlK... is base64 of "eyJ")',
    regex: String.raw`\b(ZXlK[0-9A-Za-z/\\_+-]{40,}={0,2})`,
    keywords: ['zxlk'],
    entropy: 3,
    span: 8192,
    positives: [{ text: `JWT_B64=${jwtBase64}\n`, secret: jwtBase64 }],
    negatives: ['const prefix = "ZXlK"; // base64 of eyJ\n'],
  }),
  customRule({
    id: 'curl-auth-header',
    description: 'Credential passed to curl in an Authorization, API key or token header',
    regex: String.raw`${CURL_COMMAND}(?:-H|--header)(?:=|[ \t]{0,5})["'](?i:authorization:[ \t]{0,5}(?:basic[ \t]([0-9a-z+/]{8,}={0,3})|(?:bearer|(?:api-)?token)[ \t](${HEADER_VALUE})|(${HEADER_VALUE}))|(?:x-(?:[a-z]+-)?)?(?:api-?)?(?:key|token):[ \t]{0,5}(${HEADER_VALUE}))["']`,
    keywords: ['curl'],
    entropy: 2.75,
    span: 4096,
    positives: [
      {
        text: `curl -X POST https://api.example.net/v1/items \\\n  -H "Authorization: Bearer ${curlBearer}"\n`,
        secret: curlBearer,
      },
      { text: `curl -sS -H 'X-API-Key: ${curlApiKey}' https://api.example.net/\n`, secret: curlApiKey },
    ],
    negatives: [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable reference, a negative fixture
      'curl -H "Authorization: Bearer ${TOKEN}" https://api.example.net/\n',
      'curl -H "Accept: application/json" https://api.example.net/\n',
    ],
  }),
  customRule({
    id: 'curl-auth-user',
    description: 'Credentials passed to curl with -u / --user',
    regex: String.raw`${CURL_COMMAND}(?:-u|--user)(?:=|[ \t]{0,5})(?:"(:[^"\r\n]{3,200}|[^:"\r\n]{3,200}:[^"\r\n]{0,200})"|'([^:'\r\n]{3,200}:[^'\r\n]{3,200})'|(${USER_PART}:${PASSWORD_PART}))(?:\s|$)`,
    keywords: ['curl'],
    entropy: 2,
    span: 4096,
    allowlists: [
      allowlistDefinition({
        description: 'placeholder passwords, variables, templates and command substitutions',
        regexes: [
          String.raw`(?i)^['"]?[^:]*['"]?:['"]?(?:changeit|changeme|pass|password|pwd|test|token|\*+|x+)['"]?$`,
          `^['"]?<[^>]*>['"]?:['"]?<[^>]*>['"]?$|^<[^:]*:[^>]*>$`,
          String.raw`^[^:]*:\[[^\]]*\]$`,
          String.raw`^['"]?[^:]*['"]?:['"]?\$(?:\d|\w+|\{\w+\})['"]?$`,
          String.raw`^\$\([^)]*\):\$\([^)]*\)$`,
          String.raw`^['"]?\$?\{\{[^}]*\}\}['"]?:['"]?\$?\{\{[^}]*\}\}['"]?$`,
        ],
      }),
    ],
    positives: [
      { text: `curl --user "deploy:${curlPassword}" https://ci.example.net/api\n`, secret: `deploy:${curlPassword}` },
    ],
    negatives: [
      'curl -u admin:changeme http://localhost:8080/\n',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable reference, a negative fixture
      'curl -u "$USER:${PASSWORD}" http://localhost:8080/\n',
    ],
  }),
  customRule({
    id: 'kubernetes-secret-yaml',
    description: 'Kubernetes Secret manifest with its data inline',
    regex: `(?i)(?:${K8S_SECRET_KIND}[\\s\\S]{0,200}?\\bdata:[\\s\\S]{0,100}?\\s${K8S_DATA_ENTRY}|\\bdata:[\\s\\S]{0,100}?\\s${K8S_DATA_ENTRY}[\\s\\S]{0,200}?${K8S_SECRET_KIND})`,
    path: String.raw`(?i)\.ya?ml$`,
    keywords: ['secret'],
    span: 4096,
    allowlists: [
      allowlistDefinition({
        description: 'templated or empty values',
        regexes: [String.raw`^[\w.-]+:(?:[ \t]*(?:\||>[-+]?)\s+)?[ \t]*(?:\{\{[^}]*\}\}|""|'')$`],
      }),
      allowlistDefinition({
        description: 'kind and data in different YAML documents',
        regexTarget: 'match',
        regexes: [String.raw`kind:[\s\S]+\n---\n[\s\S]+\bdata:|data:[\s\S]+\n---\n[\s\S]+\bkind:`],
      }),
    ],
    positives: [
      {
        text: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: ${k8sValue}\n`,
        secret: `password: ${k8sValue}`,
        path: 'deploy/secret.yaml',
      },
    ],
    negatives: [
      { text: `apiVersion: v1\nkind: Secret\ndata:\n  password: ${k8sValue}\n`, path: 'secret.txt' },
      { text: 'kind: Secret\ndata:\n  password: "{{ .Values.password }}"\n', path: 'templates/secret.yaml' },
    ],
  }),
  customRule({
    id: 'pkcs12-file',
    description: 'PKCS#12 key store file (.p12, .pfx), which holds private keys',
    path: String.raw`(?i)(?:^|/)[^/]+\.p(?:12|fx)$`,
    keywords: [],
    positives: [{ text: 'binary key store', secret: '', path: 'certs/client.p12' }],
    negatives: [{ text: 'not a key store', path: 'certs/client.p12.md' }],
  }),
];
