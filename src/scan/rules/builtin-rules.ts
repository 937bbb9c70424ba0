// The built-in rule set: the providers of docs/providers.md, our own `internal` keys, some hundred further providers
// (providers/*-rules.ts, by family), and the common generic forms.
// Rule ids follow gitleaks' where gitleaks has the same rule, so `[extend] disabledRules` and allowlists written
// for gitleaks keep working. Regexes are written from each provider's documented key format; formats with a
// checksum (GitHub, internal) are validated so look-alikes are not reported.
import { PROVIDER_RULES } from './providers/provider-rules.js';
import { ASSIGN, END } from './rule-builders.js';
import { type AllowlistDefinition, allowlistDefinition, type RuleDefinition } from './rule-definition.js';

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

function rule(definition: Omit<RuleDefinition, 'tags' | 'allowlists'> & Partial<RuleDefinition>): RuleDefinition {
  return { tags: [], allowlists: [], ...definition };
}

function examplesAllowed(...regexes: string[]): AllowlistDefinition[] {
  return [allowlistDefinition({ description: 'documented example values', regexes })];
}

export const BUILTIN_RULES: RuleDefinition[] = [
  // --- AWS ---
  rule({
    id: 'aws-access-token',
    description: 'AWS access key id (long-term AKIA, temporary ASIA)',
    regex: `\\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})${END}`,
    keywords: ['akia', 'asia', 'abia', 'acca'],
    entropy: 3,
    provider: 'aws-iam',
    allowlists: examplesAllowed('EXAMPLE$'),
  }),
  rule({
    id: 'aws-secret-access-key',
    description: 'AWS secret access key assigned to an AWS-named variable',
    regex: `(?i)aws[\\w.-]{0,24}?(?:secret|sk)[\\w.-]{0,24}${ASSIGN}([A-Za-z0-9/+]{40})${END}`,
    keywords: ['aws'],
    entropy: 4,
    provider: 'aws-iam',
    allowlists: examplesAllowed('EXAMPLEKEY$'),
  }),
  // --- GCP ---
  rule({
    id: 'gcp-api-key',
    description: 'Google Cloud API key',
    regex: `\\b(AIza[0-9A-Za-z_-]{35})${END}`,
    keywords: ['aiza'],
    entropy: 3,
  }),
  rule({
    id: 'gcp-service-account-key',
    description: 'Google Cloud service-account key file (private_key_id beside its PEM key)',
    regex: `"private_key_id"\\s{0,8}:\\s{0,8}"([0-9a-f]{40})"`,
    keywords: ['private_key_id'],
    provider: 'gcp-iam',
  }),
  rule({
    id: 'google-oauth-client-secret',
    description: 'Google OAuth client secret',
    regex: `\\b(GOCSPX-[0-9A-Za-z_-]{28})${END}`,
    keywords: ['gocspx-'],
  }),
  // --- Azure ---
  rule({
    id: 'azure-ad-client-secret',
    description: 'Azure Entra (AD) application client secret',
    regex: `(?:^|[\\\\'"\\x60\\s>=:(,)])([a-zA-Z0-9_~.]{3}\\dQ~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\\\'"\\x60\\s<),])`,
    keywords: ['q~'],
    entropy: 3,
    provider: 'azure-entra',
  }),
  // --- GitHub (checksummed) ---
  rule({
    id: 'github-pat',
    description: 'GitHub personal access token (classic)',
    regex: `\\b(ghp_[0-9A-Za-z]{36})${END}`,
    keywords: ['ghp_'],
    validate: 'github-crc32',
    provider: 'github',
  }),
  rule({
    id: 'github-oauth',
    description: 'GitHub OAuth access token',
    regex: `\\b(gho_[0-9A-Za-z]{36})${END}`,
    keywords: ['gho_'],
    validate: 'github-crc32',
    provider: 'github',
  }),
  rule({
    id: 'github-app-token',
    description: 'GitHub App user-to-server or server-to-server token',
    regex: `\\b((?:ghu|ghs)_[0-9A-Za-z]{36})${END}`,
    keywords: ['ghu_', 'ghs_'],
    validate: 'github-crc32',
    provider: 'github',
  }),
  rule({
    id: 'github-refresh-token',
    description: 'GitHub refresh token',
    regex: `\\b(ghr_[0-9A-Za-z]{36})${END}`,
    keywords: ['ghr_'],
    validate: 'github-crc32',
    provider: 'github',
  }),
  rule({
    id: 'github-fine-grained-pat',
    description: 'GitHub fine-grained personal access token',
    regex: `\\b(github_pat_[0-9A-Za-z_]{82})${END}`,
    keywords: ['github_pat_'],
    entropy: 3,
    provider: 'github',
  }),
  // --- GitLab ---
  rule({
    id: 'gitlab-pat',
    description: 'GitLab personal, project or group access token',
    regex: `\\b(glpat-[0-9A-Za-z_-]{20}(?:[0-9A-Za-z_-]{7}\\.[0-9a-z]{2}\\.[0-9a-z]{9})?)${END}`,
    keywords: ['glpat-'],
    entropy: 3,
    provider: 'gitlab',
  }),
  // --- Datadog ---
  rule({
    id: 'datadog-access-token',
    description: 'Datadog API key (32 hex) or application key (40 hex)',
    regex: `(?i)\\b(?:datadog|dd)[\\w.-]{0,25}?(?:api|app|application)?[\\w.-]{0,10}?key[\\w.-]{0,10}${ASSIGN}([0-9a-f]{40}|[0-9a-f]{32})${END}`,
    keywords: ['datadog', 'dd_', 'dd-', 'ddapi', 'ddapp'],
    entropy: 3,
    provider: 'datadog',
  }),
  // --- Twilio ---
  rule({
    id: 'twilio-api-key',
    description: 'Twilio API key SID with its secret nearby (SK + 32 hex)',
    regex: `\\b(SK[0-9a-fA-F]{32})${END}`,
    keywords: ['sk'],
    entropy: 3,
    provider: 'twilio',
  }),
  // --- SendGrid ---
  rule({
    id: 'sendgrid-api-token',
    description: 'SendGrid API key',
    regex: `\\b(SG\\.[0-9A-Za-z_-]{22}\\.[0-9A-Za-z_-]{43})${END}`,
    keywords: ['sg.'],
    entropy: 3,
    provider: 'sendgrid',
  }),
  // --- Cloudflare ---
  rule({
    id: 'cloudflare-api-key',
    description: 'Cloudflare API token',
    regex: `(?i)cloudflare[\\w.-]{0,25}${ASSIGN}([0-9A-Za-z_-]{40})${END}`,
    keywords: ['cloudflare'],
    entropy: 3.5,
    provider: 'cloudflare',
  }),
  rule({
    id: 'cloudflare-global-api-key',
    description: 'Cloudflare global API key (37 hex)',
    regex: `(?i)cloudflare[\\w.-]{0,25}${ASSIGN}([0-9a-f]{37})${END}`,
    keywords: ['cloudflare'],
    entropy: 3,
    provider: 'cloudflare',
  }),
  rule({
    id: 'cloudflare-user-token',
    description: 'Cloudflare API token with its scannable prefix',
    regex: `\\b(cfut_[0-9A-Za-z_-]{40,80})${END}`,
    keywords: ['cfut_'],
    entropy: 3.5,
    provider: 'cloudflare',
  }),
  // --- OpenAI / Anthropic / Hugging Face ---
  rule({
    id: 'openai-api-key',
    description: 'OpenAI API key (project, service-account, admin or legacy)',
    regex: `\\b(sk-(?:proj|svcacct|admin)-[0-9A-Za-z_-]{58,400}|sk-[0-9A-Za-z]{20}T3BlbkFJ[0-9A-Za-z]{20})${END}`,
    keywords: ['sk-proj-', 'sk-svcacct-', 'sk-admin-', 't3blbkfj'],
    entropy: 3.5,
    provider: 'openai',
  }),
  rule({
    id: 'anthropic-api-key',
    description: 'Anthropic API or admin key',
    regex: `\\b(sk-ant-(?:api03|admin01)-[0-9A-Za-z_-]{93}AA)${END}`,
    keywords: ['sk-ant-'],
  }),
  rule({
    id: 'huggingface-access-token',
    description: 'Hugging Face access token',
    regex: `\\b(hf_[A-Za-z]{34})${END}`,
    keywords: ['hf_'],
    entropy: 3.5,
  }),
  // --- Stripe ---
  rule({
    id: 'stripe-access-token',
    description: 'Stripe secret or restricted key',
    regex: `\\b((?:sk|rk)_(?:live|test|prod)_[0-9A-Za-z]{24,99})${END}`,
    keywords: ['sk_live_', 'sk_test_', 'sk_prod_', 'rk_live_', 'rk_test_', 'rk_prod_'],
    entropy: 3,
    provider: 'stripe',
  }),
  rule({
    id: 'stripe-webhook-secret',
    description: 'Stripe webhook signing secret',
    regex: `\\b(whsec_[0-9A-Za-z]{32,88})${END}`,
    keywords: ['whsec_'],
    entropy: 3,
  }),
  // --- Slack ---
  rule({
    id: 'slack-bot-token',
    description: 'Slack bot token',
    regex: `\\b(xoxb-[0-9]{10,13}-[0-9]{10,13}-[0-9A-Za-z]{24,34})${END}`,
    keywords: ['xoxb-'],
    provider: 'slack',
  }),
  rule({
    id: 'slack-user-token',
    description: 'Slack user token',
    regex: `\\b(xox[pe](?:-[0-9]{10,13}){3}-[0-9a-f]{28,34})${END}`,
    keywords: ['xoxp-', 'xoxe-'],
    provider: 'slack',
  }),
  rule({
    id: 'slack-app-token',
    description: 'Slack app-level token',
    regex: `(?i)\\b(xapp-\\d-[A-Z0-9]{1,20}-\\d{1,20}-[a-z0-9]{16,128})${END}`,
    keywords: ['xapp-'],
    entropy: 3,
    provider: 'slack',
  }),
  rule({
    id: 'slack-webhook-url',
    description: 'Slack incoming webhook URL',
    regex: `(https?://hooks\\.slack\\.com/(?:services|workflows|triggers)/T[0-9A-Z]{8,12}/B[0-9A-Z]{8,12}/[0-9A-Za-z]{24})${END}`,
    keywords: ['hooks.slack.com'],
    provider: 'slack',
  }),
  // --- package registries ---
  rule({
    id: 'npm-access-token',
    description: 'npm access token',
    regex: `(?i)\\b(npm_[0-9a-z]{36})${END}`,
    keywords: ['npm_'],
    entropy: 3.5,
  }),
  rule({
    id: 'pypi-upload-token',
    description: 'PyPI upload token',
    regex: `\\b(pypi-AgEIcHlwaS5vcmc[0-9A-Za-z_-]{50,})${END}`,
    keywords: ['pypi-ageichlwas5vcmc'],
  }),
  rule({
    id: 'shopify-access-token',
    description: 'Shopify access token',
    regex: `\\b(shp(?:at|ca|pa|ss)_[0-9a-fA-F]{32})${END}`,
    keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'],
  }),
  // --- keyledger internal keys (checksummed) ---
  rule({
    id: 'keyledger-internal-key',
    description: 'keyledger internal key (prefix_env_ + 30 random + 6 CRC32 checksum, base62)',
    regex: `\\b([a-z][a-z0-9]{1,15}_(?:live|test|dev|stage|staging|prod)_[0-9A-Za-z]{36})${END}`,
    keywords: ['_live_', '_test_', '_dev_', '_stage_', '_staging_', '_prod_'],
    validate: 'internal-crc32',
    provider: 'internal',
  }),
  // --- further providers, by family (providers/*-rules.ts) ---
  ...PROVIDER_RULES.map((provider) => provider.definition),
  // --- generic forms ---
  rule({
    id: 'private-key',
    description: 'Private key in PEM form (RSA, EC, DSA, OpenSSH, PKCS#8, PGP)',
    regex:
      '(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\\s\\S]{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----',
    keywords: ['-----begin'],
    span: 32_768,
  }),
  rule({
    id: 'jwt',
    description: 'JSON Web Token',
    regex: `\\b(eyJ[0-9A-Za-z_-]{15,}\\.eyJ[0-9A-Za-z_-]{15,}\\.[0-9A-Za-z_-]{10,})${END}`,
    keywords: ['eyj'],
    entropy: 3,
    span: 4096,
  }),
  rule({
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
  }),
  rule({
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
  }),
];

/** The ids of the built-in rules, for `disabledRules` validation and docs. */
export const BUILTIN_RULE_IDS = BUILTIN_RULES.map((definition) => definition.id);

/** A fresh copy of the built-in rule set (callers may extend and modify it). */
export function builtinRuleSet(): { rules: RuleDefinition[]; allowlists: AllowlistDefinition[] } {
  return { rules: structuredClone(BUILTIN_RULES), allowlists: [] };
}
