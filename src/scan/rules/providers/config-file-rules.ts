// Credentials in configuration files and URLs, whoever issued them: .netrc, .npmrc, kubeconfig client keys,
// WordPress and Laravel keys, passwords in URLs, Java key stores. Each rule with its true- and false-positive
// cases. (Connection strings of databases and brokers: generic-rules.ts.)
import { BASE62, fakeChars, HEX, t } from '../canary-secrets.js';
import { type BuiltinRule, customRule, namedSecretRule, tokenRule } from '../rule-builders.js';
import { allowlistDefinition } from '../rule-definition.js';

const netrcPassword = fakeChars(4201, 20);
const npmAuth = Buffer.from(t('deploy:', fakeChars(4202, 20))).toString('base64');
const kubeKey = Buffer.from(t('-----BEGIN RSA PRIVATE ', 'KEY-----\n', fakeChars(4203, 120, `${BASE62}+/`))).toString(
  'base64',
);
const wordpressKey = fakeChars(4204, 64, `${BASE62}!@#%^&*()-_[]{}<>~+=,.;:/?|`);
const laravelKey = Buffer.from(fakeChars(4205, 32)).toString('base64');
const urlPassword = fakeChars(4206, 18);

/** Placeholder passwords and references, in URLs and config files alike. */
const PLACEHOLDER_PASSWORDS = allowlistDefinition({
  description: 'placeholder passwords and references',
  regexes: [
    '(?i)^(?:pass(?:word)?|passwd|pwd|secret|changeme|change_me|token|test|example|sample|dummy|redacted)$',
    '^(?:x+|X+|\\*+|\\.+)$',
    '^<[^>]*>$',
    '^\\$\\{?[\\w.-]+\\}?$',
    '^\\{\\{.*\\}\\}$',
    '^%[A-Za-z_]+%$|^%[sv]$',
    '^\\[[^\\]]*\\]$',
  ],
});

export const CONFIG_FILE_RULES: BuiltinRule[] = [
  customRule({
    id: 'netrc-password',
    description: 'Password in a .netrc entry (machine, login, password)',
    regex: String.raw`\bmachine[ \t]+[\w.-]{1,255}\s+(?:login[ \t]+\S{1,255}\s+)?password[ \t]+(\S{4,255})`,
    keywords: ['machine'],
    entropy: 2.5,
    allowlists: [PLACEHOLDER_PASSWORDS],
    positives: [
      { text: `machine api.example.net\n  login deploy\n  password ${netrcPassword}\n`, secret: netrcPassword },
    ],
    negatives: ['machine api.example.net login deploy password changeme\n', 'the machine password policy\n'],
  }),
  customRule({
    id: 'npmrc-auth',
    description: 'npm registry credentials in an .npmrc `_auth` line (base64 of user:password)',
    regex: String.raw`(?:^|[\s:])_auth[ \t]*=[ \t]*['"]?([0-9A-Za-z+/]{12,}={0,2})`,
    keywords: ['_auth'],
    entropy: 3,
    positives: [{ text: `//registry.example.net/:_auth=${npmAuth}\n`, secret: npmAuth }],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an .npmrc variable reference, a negative case
    negatives: ['//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n', '_auth=\n'],
  }),
  customRule({
    id: 'kubeconfig-client-key',
    description: 'Client private key inline in a kubeconfig (client-key-data, base64 of a PEM key)',
    regex: String.raw`client-key-data:[ \t]*["']?(LS0tLS1CRUdJTi[0-9A-Za-z+/]{40,}={0,2})`,
    keywords: ['client-key-data'],
    span: 16_384,
    positives: [{ text: `users:\n- name: admin\n  user:\n    client-key-data: ${kubeKey}\n`, secret: kubeKey }],
    negatives: ['    client-key-data: REDACTED\n', '    client-certificate-data: LS0tLS1CRUdJTiBDRVJU\n'],
  }),
  customRule({
    id: 'wordpress-auth-key',
    description: 'WordPress authentication key or salt in wp-config.php',
    regex: String.raw`define\(\s{0,4}['"](?:AUTH|SECURE_AUTH|LOGGED_IN|NONCE)_(?:KEY|SALT)['"]\s{0,4},\s{0,4}'([^'\r\n]{32,128})'`,
    keywords: ['define('],
    entropy: 3.5,
    allowlists: [
      allowlistDefinition({ description: 'the sample file placeholder', regexes: ['(?i)put your unique phrase here'] }),
    ],
    positives: [{ text: `define( 'AUTH_KEY', '${wordpressKey}' );\n`, secret: wordpressKey }],
    negatives: ["define( 'AUTH_KEY',         'put your unique phrase here' );\n"],
  }),
  customRule({
    id: 'laravel-app-key',
    description: 'Laravel application key (APP_KEY=base64:...)',
    regex: String.raw`\bAPP_KEY[ \t]*=[ \t]*['"]?base64:([0-9A-Za-z+/]{43}=)`,
    keywords: ['app_key'],
    entropy: 3.5,
    positives: [{ text: `APP_KEY=base64:${laravelKey}\n`, secret: laravelKey }],
    negatives: ['APP_KEY=\n', 'APP_KEY=base64:short=\n'],
  }),
  customRule({
    id: 'url-password',
    description: 'Password embedded in an http(s), ftp, ssh, git, mail or LDAP URL',
    regex: String.raw`\b(?:https?|ftps?|sftp|ssh|git|svn\+ssh|smtps?|imaps?|ldaps?)://[^\s:/@'"\x60]{1,64}:([^\s:/@'"\x60]{3,128})@[0-9A-Za-z_.-]{1,255}`,
    keywords: ['://'],
    entropy: 3,
    allowlists: [PLACEHOLDER_PASSWORDS],
    positives: [
      { text: `git remote add origin https://deploy:${urlPassword}@git.example.net/app.git\n`, secret: urlPassword },
    ],
    negatives: [
      'https://user:password@example.com/',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable reference, a negative case
      'https://ci:${CI_TOKEN}@git.example.net/app.git',
      'ftp://anonymous:xxxx@ftp.example.net/',
    ],
  }),
  customRule({
    id: 'java-keystore-file',
    description: 'Java or Android key store file (.jks, .keystore, .bks), which holds private keys',
    path: String.raw`(?i)(?:^|/)[^/]+\.(?:jks|keystore|bks)$`,
    keywords: [],
    positives: [{ text: 'binary key store', secret: '', path: 'android/app/release.keystore' }],
    negatives: [{ text: 'how to make a keystore', path: 'docs/keystore.md' }],
  }),
  customRule({
    id: 'cloudinary-url',
    description: 'Cloudinary URL with its API secret (cloudinary://key:secret@cloud)',
    regex: String.raw`\bcloudinary://[0-9]{12,20}:([0-9A-Za-z_-]{20,40})@[0-9A-Za-z_-]{1,64}`,
    keywords: ['cloudinary://'],
    positives: [
      {
        text: `CLOUDINARY_URL=cloudinary://123456789012345:${fakeChars(4207, 27)}@demo-cloud\n`,
        secret: fakeChars(4207, 27),
      },
    ],
    negatives: ['CLOUDINARY_URL=cloudinary://<api_key>:<api_secret>@<cloud_name>\n'],
  }),
  tokenRule({
    id: 'django-secret-key',
    description: 'Django SECRET_KEY as startproject generates it (django-insecure- prefix)',
    token: 'django-insecure-[0-9a-z!@#$%^&*(=+)_-]{50}',
    keywords: ['django-insecure-'],
    variable: 'SECRET_KEY',
    sample: t('django-', 'insecure-', fakeChars(4301, 50, 'abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)')),
  }),
  namedSecretRule({
    id: 'rails-secret-key-base',
    description: 'Ruby on Rails secret_key_base',
    names: ['secret_key_base'],
    value: '[0-9a-f]{128}',
    variable: 'SECRET_KEY_BASE',
    sample: fakeChars(4302, 128, HEX),
  }),
  customRule({
    id: 'rails-master-key-file',
    description: 'Ruby on Rails master key file (decrypts config/credentials.yml.enc)',
    path: String.raw`(?:^|/)config/(?:master|credentials/[0-9a-z_-]+)\.key$`,
    keywords: [],
    positives: [{ text: fakeChars(4303, 32, HEX), secret: '', path: 'app/config/master.key' }],
    negatives: [{ text: 'master key docs', path: 'docs/master.key.md' }],
  }),
  namedSecretRule({
    id: 'nextauth-secret',
    description: 'NextAuth.js / Auth.js session secret',
    names: ['nextauth_secret', 'auth_secret'],
    value: '[0-9A-Za-z+/_-]{32,88}={0,2}',
    caseSensitive: true,
    variable: 'NEXTAUTH_SECRET',
    sample: fakeChars(4304, 44),
  }),
  customRule({
    id: 'pgpass-file',
    description: 'PostgreSQL password file (.pgpass)',
    path: String.raw`(?:^|/)\.pgpass$`,
    keywords: [],
    positives: [{ text: 'db:5432:*:app:password', secret: '', path: 'home/.pgpass' }],
    negatives: [{ text: 'pgpass docs', path: 'docs/pgpass.md' }],
  }),
  customRule({
    id: 'git-credentials-file',
    description: "git's credential store file (.git-credentials), one URL with a password a line",
    path: String.raw`(?:^|/)\.git-credentials$`,
    keywords: [],
    positives: [{ text: 'https://user:pass@example.com', secret: '', path: 'home/.git-credentials' }],
    negatives: [{ text: 'credentials docs', path: 'docs/git-credentials.md' }],
  }),
  tokenRule({
    id: 'dotenv-vault-key',
    description: 'dotenv-vault DOTENV_KEY (decrypts .env.vault)',
    token: String.raw`dotenv://:key_[0-9a-f]{64}@dotenv\.(?:org|local)/vault/\.env\.vault\?environment=[a-z]{2,20}`,
    keywords: ['dotenv://:key_'],
    variable: 'DOTENV_KEY',
    sample: t('dotenv://', ':key_', fakeChars(4305, 64, HEX), '@dotenv.org/vault/.env.vault?environment=production'),
  }),
];
