// True-positive and false-positive cases for every built-in rule. Fake secrets are assembled at run time from a
// seeded generator (canary-secrets.ts), so no complete token appears in this repository's source, and every one
// of them is a canary: none was ever issued. The provider families keep their cases beside their rules.
import { base62Crc32, formatInternalKey } from '../../runtime/base62-crc32.js';
import { BASE62, fakeChars, HEX, type RuleFixture, t, UPPER32 } from './canary-secrets.js';
import { PROVIDER_RULES } from './providers/provider-rules.js';

export { fakeChars, type RuleFixture } from './canary-secrets.js';

export function githubToken(prefix: string, seed: number): string {
  const random = fakeChars(seed, 30);
  return t(prefix, '_', random, base62Crc32(random));
}

function badChecksumGithubToken(prefix: string, seed: number): string {
  const token = githubToken(prefix, seed);
  const last = token.at(-1) === 'a' ? 'b' : 'a';
  return token.slice(0, -1) + last;
}

const akia = t('AKIA', fakeChars(11, 16, UPPER32));
const awsSecret = fakeChars(12, 40, `${BASE62}/+`);
const gcpKey = t('AIza', fakeChars(13, 35));
const ghp = githubToken('ghp', 14);
const gho = githubToken('gho', 15);
const ghu = githubToken('ghu', 16);
const ghs = githubToken('ghs', 17);
const ghr = githubToken('ghr', 18);
const fineGrained = t('github_pat_', fakeChars(19, 22), '_', fakeChars(20, 59));
const glpat = t('glpat-', fakeChars(21, 20));
const ddApi = fakeChars(22, 32, HEX);
const ddApp = fakeChars(23, 40, HEX);
const twilio = t('SK', fakeChars(24, 32, HEX));
const sendgrid = t('SG.', fakeChars(25, 22), '.', fakeChars(26, 43));
const cfToken = fakeChars(27, 40);
const cfGlobal = fakeChars(28, 37, HEX);
const cfut = t('cfut_', fakeChars(29, 48));
const openaiProject = t('sk-proj-', fakeChars(30, 74), 'T3Blbk', 'FJ', fakeChars(31, 74));
const openaiLegacy = t('sk-', fakeChars(32, 20), 'T3Blbk', 'FJ', fakeChars(33, 20));
const anthropic = t('sk-ant-api03-', fakeChars(34, 93), 'AA');
const hf = t('hf_', fakeChars(35, 34, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'));
const stripeLive = t('sk_live_', fakeChars(36, 24));
const stripeRestricted = t('rk_test_', fakeChars(37, 40));
const whsec = t('whsec_', fakeChars(38, 32));
const xoxb = t('xoxb-', '1234567890123', '-', '9876543210987', '-', fakeChars(39, 24));
const xoxp = t('xoxp-', '1234567890', '-', '2345678901', '-', '3456789012', '-', fakeChars(40, 32, HEX));
const xapp = t('xapp-', '1', '-', 'A0', fakeChars(41, 9, UPPER32), '-', '4567890123456', '-', fakeChars(42, 64, HEX));
const slackHook = t(
  'https://hooks.slack',
  '.com/services/',
  'T0',
  fakeChars(43, 8, UPPER32),
  '/B0',
  fakeChars(44, 8, UPPER32),
  '/',
  fakeChars(45, 24),
);
const npmToken = t('npm_', fakeChars(46, 36));
const pypi = t('pypi-AgEIcHlw', 'aS5vcmc', fakeChars(47, 70));
const shopify = t('shpat_', fakeChars(48, 32, HEX));
const internal = formatInternalKey('kl', 'live', fakeChars(49, 30));
const azure = t('abc', '8Q~', fakeChars(50, 34, `${BASE62}_~.-`).replace(/^[-.]/, 'x'));
const gocspx = t('GOCSPX-', fakeChars(51, 28));
const saKeyId = fakeChars(52, 40, HEX);
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

export const BUILTIN_RULE_FIXTURES: RuleFixture[] = [
  {
    ruleId: 'aws-access-token',
    positives: [{ text: `aws_access_key_id = ${akia}\n`, secret: akia }],
    negatives: [t('aws_access_key_id = AKIAIOSFODNN7', 'EXAMPLE\n'), 'const AKIA = "prefix only";\n'],
  },
  {
    ruleId: 'aws-secret-access-key',
    positives: [{ text: `aws_secret_access_key = ${awsSecret}\n`, secret: awsSecret }],
    negatives: [t('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY', 'EXAMPLEKEY\n'), 'aws_secret = short\n'],
  },
  {
    ruleId: 'gcp-api-key',
    positives: [{ text: `const key = "${gcpKey}";`, secret: gcpKey }],
    negatives: ['AIza is the prefix of Google API keys', t('AIza', 'SyShort123')],
  },
  {
    ruleId: 'gcp-service-account-key',
    positives: [{ text: `{\n  "type": "service_account",\n  "private_key_id": "${saKeyId}",\n}`, secret: saKeyId }],
    negatives: ['{ "private_key_id": "not-hex-at-all" }'],
  },
  {
    ruleId: 'google-oauth-client-secret',
    positives: [{ text: `client_secret: ${gocspx}`, secret: gocspx }],
    negatives: ['GOCSPX- is the prefix'],
  },
  {
    ruleId: 'azure-ad-client-secret',
    positives: [{ text: `AZURE_CLIENT_SECRET="${azure}"`, secret: azure }],
    negatives: ['const q = "8Q~ is a marker";'],
  },
  {
    ruleId: 'github-pat',
    positives: [{ text: `GITHUB_TOKEN=${ghp}\n`, secret: ghp }],
    negatives: [`GITHUB_TOKEN=${badChecksumGithubToken('ghp', 14)}\n`, t('ghp_', 'a'.repeat(36))],
  },
  {
    ruleId: 'github-oauth',
    positives: [{ text: `token: ${gho}`, secret: gho }],
    negatives: [`token: ${badChecksumGithubToken('gho', 15)}`],
  },
  {
    ruleId: 'github-app-token',
    positives: [
      { text: `x-access-token:${ghu}@github.com`, secret: ghu },
      { text: `INSTALLATION_TOKEN='${ghs}'`, secret: ghs },
    ],
    negatives: [`INSTALLATION_TOKEN='${badChecksumGithubToken('ghs', 17)}'`],
  },
  {
    ruleId: 'github-refresh-token',
    positives: [{ text: `refresh=${ghr}`, secret: ghr }],
    negatives: [`refresh=${badChecksumGithubToken('ghr', 18)}`],
  },
  {
    ruleId: 'github-fine-grained-pat',
    positives: [{ text: `export GH_TOKEN=${fineGrained}\n`, secret: fineGrained }],
    negatives: ['github_pat_ tokens are 93 characters long'],
  },
  {
    ruleId: 'gitlab-pat',
    positives: [{ text: `PRIVATE-TOKEN: ${glpat}`, secret: glpat }],
    negatives: [t('glpat-', 'short')],
  },
  {
    ruleId: 'datadog-access-token',
    positives: [
      { text: `DD_API_KEY=${ddApi}\n`, secret: ddApi },
      { text: `datadog_app_key: "${ddApp}"\n`, secret: ddApp },
    ],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable reference, a negative fixture
    negatives: [`sha = "${ddApi}"  # a commit hash, no datadog name`, 'DD_API_KEY=${DD_API_KEY}'],
  },
  {
    ruleId: 'twilio-api-key',
    positives: [{ text: `TWILIO_API_KEY=${twilio}`, secret: twilio }],
    negatives: [t('SK', '0'.repeat(32)), 'task risk desk'],
  },
  {
    ruleId: 'sendgrid-api-token',
    positives: [{ text: `SENDGRID_API_KEY='${sendgrid}'`, secret: sendgrid }],
    negatives: ['SG.short.value'],
  },
  {
    ruleId: 'cloudflare-api-key',
    positives: [{ text: `cloudflare_api_token = "${cfToken}"`, secret: cfToken }],
    negatives: ['cloudflare_api_token = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"'],
  },
  {
    ruleId: 'cloudflare-global-api-key',
    positives: [{ text: `CLOUDFLARE_API_KEY: ${cfGlobal}`, secret: cfGlobal }],
    negatives: ['CLOUDFLARE_API_KEY: 0000000000000000000000000000000000000'],
  },
  {
    ruleId: 'cloudflare-user-token',
    positives: [{ text: `CF_API_TOKEN=${cfut}`, secret: cfut }],
    negatives: [t('cfut_', 'short')],
  },
  {
    ruleId: 'openai-api-key',
    positives: [
      { text: `OPENAI_API_KEY=${openaiProject}\n`, secret: openaiProject },
      { text: `openai.api_key = "${openaiLegacy}"`, secret: openaiLegacy },
    ],
    negatives: ['sk-proj- keys are long', 'the sk-ant- prefix'],
  },
  {
    ruleId: 'anthropic-api-key',
    positives: [{ text: `ANTHROPIC_API_KEY=${anthropic}`, secret: anthropic }],
    negatives: [t('sk-ant-', 'api03-short')],
  },
  {
    ruleId: 'huggingface-access-token',
    positives: [{ text: `HF_TOKEN=${hf}`, secret: hf }],
    negatives: [t('hf_', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')],
  },
  {
    ruleId: 'stripe-access-token',
    positives: [
      { text: `Stripe.apiKey = '${stripeLive}';`, secret: stripeLive },
      { text: `STRIPE_KEY=${stripeRestricted}`, secret: stripeRestricted },
    ],
    negatives: [t('sk_live_', 'tooShort1'), t('sk_test_', '0'.repeat(24))],
  },
  {
    ruleId: 'stripe-webhook-secret',
    positives: [{ text: `STRIPE_WEBHOOK_SECRET=${whsec}`, secret: whsec }],
    negatives: ['whsec_ prefix'],
  },
  {
    ruleId: 'slack-bot-token',
    positives: [{ text: `SLACK_BOT_TOKEN=${xoxb}`, secret: xoxb }],
    negatives: [t('xoxb-', 'not-a-token')],
  },
  {
    ruleId: 'slack-user-token',
    positives: [{ text: `token=${xoxp}`, secret: xoxp }],
    negatives: [t('xoxp-', '123-456')],
  },
  {
    ruleId: 'slack-app-token',
    positives: [{ text: `SLACK_APP_TOKEN=${xapp}`, secret: xapp }],
    negatives: [t('xapp-', 'x-y')],
  },
  {
    ruleId: 'slack-webhook-url',
    positives: [{ text: `webhook: ${slackHook}\n`, secret: slackHook }],
    negatives: ['https://hooks.slack.com/services/T000/B000/XXXX'],
  },
  {
    ruleId: 'npm-access-token',
    positives: [{ text: `//registry.npmjs.org/:_authToken=${npmToken}`, secret: npmToken }],
    negatives: [t('npm_', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')],
  },
  {
    ruleId: 'pypi-upload-token',
    positives: [{ text: `password = ${pypi}`, secret: pypi }],
    negatives: [t('pypi-AgEIcHlw', 'aS5vcmc', 'short')],
  },
  {
    ruleId: 'shopify-access-token',
    positives: [{ text: `X-Shopify-Access-Token: ${shopify}`, secret: shopify }],
    negatives: [t('shpat_', 'zz')],
  },
  {
    ruleId: 'keyledger-internal-key',
    positives: [{ text: `KEYLEDGER_KEY=${internal}\n`, secret: internal }],
    negatives: [
      `KEYLEDGER_KEY=${internal.slice(0, -1)}${internal.endsWith('0') ? '1' : '0'}\n`,
      t('sk_live_', fakeChars(56, 36)),
    ],
  },
  {
    ruleId: 'private-key',
    positives: [{ text: `# deploy key\n${pem}\n`, secret: pem }],
    negatives: ['Paste the key between -----BEGIN PRIVATE KEY----- and -----END PRIVATE KEY----- markers.'],
  },
  {
    ruleId: 'jwt',
    positives: [{ text: `Authorization: Bearer ${jwt}\n`, secret: jwt }],
    negatives: ['const prefix = "eyJ"; // every JWT starts with it'],
  },
  {
    ruleId: 'connection-string-password',
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
  },
  {
    ruleId: 'generic-api-key',
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
  },
  ...PROVIDER_RULES.map((provider) => provider.fixture),
];
