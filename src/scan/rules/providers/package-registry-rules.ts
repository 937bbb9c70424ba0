// Package registries: npm, PyPI, RubyGems, Clojars, NuGet, Docker Hub, crates.io, ReadMe. Each rule with its
// cases.
import { fakeChars, fakeUuid, HEX, LOWER36, t, UPPER36, URL_SAFE } from '../canary-secrets.js';
import {
  type BuiltinRule,
  customRule,
  END,
  namedSecretRule,
  tokenRule,
  URL_SAFE_BODY,
  UUID,
} from '../rule-builders.js';
import { allowlistDefinition } from '../rule-definition.js';
import { basicUserVerify, bearerVerify, headerVerify } from '../verify-requests.js';

const npmToken = t('npm_', fakeChars(46, 36));
const pypi = t('pypi-AgEIcHlw', 'aS5vcmc', fakeChars(47, 70));

const nugetPassword = fakeChars(3203, 20);
const sidekiqCredentials = t(fakeChars(3204, 8, HEX), ':', fakeChars(3205, 8, HEX));

export const PACKAGE_REGISTRY_RULES: BuiltinRule[] = [
  customRule({
    id: 'npm-access-token',
    verify: bearerVerify('https://registry.npmjs.org/-/whoami'),
    description: 'npm access token',
    regex: `(?i)\\b(npm_[0-9a-z]{36})${END}`,
    keywords: ['npm_'],
    entropy: 3.5,
    positives: [{ text: `//registry.npmjs.org/:_authToken=${npmToken}`, secret: npmToken }],
    negatives: [t('npm_', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')],
  }),
  customRule({
    id: 'pypi-upload-token',
    description: 'PyPI upload token',
    regex: `\\b(pypi-AgEIcHlwaS5vcmc[0-9A-Za-z_-]{50,})${END}`,
    keywords: ['pypi-ageichlwas5vcmc'],
    positives: [{ text: `password = ${pypi}`, secret: pypi }],
    negatives: [t('pypi-AgEIcHlw', 'aS5vcmc', 'short')],
  }),
  tokenRule({
    id: 'rubygems-api-token',
    description: 'RubyGems API key',
    token: 'rubygems_[0-9a-f]{48}',
    keywords: ['rubygems_'],
    variable: 'GEM_HOST_API_KEY',
    sample: t('rubygems_', fakeChars(1201, 48, HEX)),
  }),
  tokenRule({
    id: 'clojars-api-token',
    description: 'Clojars deploy token',
    token: 'CLOJARS_[0-9a-z]{60}',
    keywords: ['clojars_'],
    ignoreCase: true,
    variable: 'CLOJARS_PASSWORD',
    sample: t('CLOJARS_', fakeChars(1202, 60, LOWER36)),
  }),
  tokenRule({
    id: 'nuget-api-key',
    description: 'NuGet.org API key',
    token: 'oy2[0-9a-z]{43}',
    keywords: ['oy2'],
    variable: 'NUGET_API_KEY',
    sample: t('oy2', fakeChars(1203, 43, LOWER36)),
  }),
  tokenRule({
    id: 'dockerhub-pat',
    description: 'Docker Hub personal access token',
    token: `dckr_pat_${URL_SAFE_BODY}{27}`,
    keywords: ['dckr_pat_'],
    variable: 'DOCKERHUB_TOKEN',
    sample: t('dckr_pat_', fakeChars(1204, 27)),
  }),
  tokenRule({
    id: 'crates-io-api-token',
    verify: headerVerify('https://crates.io/api/v1/me', 'Authorization'),
    description: 'crates.io API token',
    token: 'cio[0-9A-Za-z]{32}',
    keywords: ['cio'],
    variable: 'CARGO_REGISTRY_TOKEN',
    sample: t('cio', fakeChars(1205, 32)),
  }),
  tokenRule({
    id: 'readme-api-token',
    verify: basicUserVerify('https://dash.readme.com/api/v1'),
    description: 'ReadMe API key',
    token: 'rdme_[0-9a-z]{70}',
    keywords: ['rdme_'],
    variable: 'README_API_KEY',
    sample: t('rdme_', fakeChars(1206, 70, LOWER36)),
  }),
  customRule({
    id: 'nuget-config-password',
    description: 'Package source password in a NuGet.Config',
    regex: String.raw`(?i)<add key="(?:ClearText)?Password"\s{0,16}value="([^"\r\n]{8,200})"\s{0,16}/>`,
    path: String.raw`(?i)nuget\.config$`,
    keywords: ['<add key='],
    entropy: 1,
    allowlists: [
      allowlistDefinition({ description: 'environment variable references', regexes: [String.raw`^%\S.*%$`] }),
    ],
    positives: [
      {
        text: `<packageSourceCredentials><feed>\n  <add key="ClearTextPassword" value="${nugetPassword}" />`,
        secret: nugetPassword,
        path: 'NuGet.Config',
      },
    ],
    negatives: [
      { text: '  <add key="ClearTextPassword" value="%FEED_PASSWORD%" />', path: 'NuGet.Config' },
      { text: `  <add key="ClearTextPassword" value="${nugetPassword}" />`, path: 'README.md' },
    ],
  }),
  namedSecretRule({
    id: 'sidekiq-secret',
    description: 'Sidekiq Pro/Enterprise gem server credentials (BUNDLE_..._CONTRIBSYS__COM)',
    names: ['bundle_enterprise__contribsys__com', 'bundle_gems__contribsys__com'],
    value: '[0-9a-fA-F]{8}:[0-9a-fA-F]{8}',
    entropy: 2.5,
    variable: 'BUNDLE_GEMS__CONTRIBSYS__COM',
    sample: t(fakeChars(3201, 8, HEX), ':', fakeChars(3202, 8, HEX)),
  }),
  customRule({
    id: 'sidekiq-sensitive-url',
    description: 'Sidekiq Pro/Enterprise gem server URL with its credentials',
    regex: String.raw`(?i)\bhttps?://([0-9a-f]{8}:[0-9a-f]{8})@(?:gems|enterprise)\.contribsys\.com(?:[/#?:|]|$)`,
    keywords: ['gems.contribsys.com', 'enterprise.contribsys.com'],
    entropy: 2.5,
    positives: [
      { text: `source "https://${sidekiqCredentials}@gems.contribsys` + `.com/" do\n`, secret: sidekiqCredentials },
    ],
    negatives: ['source "https://gems.contribsys.com/" do\n'],
  }),
  tokenRule({
    id: 'dockerhub-organization-access-token',
    description: 'Docker Hub organisation access token',
    token: 'dckr_oat_[0-9A-Za-z_-]{32}',
    keywords: ['dckr_oat_'],
    variable: 'DOCKERHUB_OAT',
    sample: t('dckr_', 'oat_', fakeChars(9601, 32, URL_SAFE)),
  }),
  namedSecretRule({
    id: 'cloudsmith-api-key',
    description: 'Cloudsmith API key',
    names: ['cloudsmith'],
    value: '[0-9a-f]{40}',
    variable: 'CLOUDSMITH_API_KEY',
    sample: fakeChars(9602, 40, HEX),
    verify: headerVerify('https://api.cloudsmith.io/v1/user/self/', 'X-Api-Key'),
  }),
  namedSecretRule({
    id: 'packagecloud-api-token',
    description: 'packagecloud API token',
    names: ['packagecloud'],
    value: '[0-9a-f]{48}',
    variable: 'PACKAGECLOUD_TOKEN',
    sample: fakeChars(9603, 48, HEX),
  }),
  namedSecretRule({
    id: 'gemfury-api-token',
    description: 'Gemfury push or deploy token',
    names: ['gemfury'],
    value: '[0-9A-Za-z_-]{20}',
    caseSensitive: true,
    variable: 'GEMFURY_TOKEN',
    sample: fakeChars(9604, 20, URL_SAFE),
  }),
  namedSecretRule({
    id: 'hex-pm-api-key',
    description: 'Hex (hex.pm) API key',
    names: ['hex_api_key', 'hexpm'],
    value: '[0-9a-f]{32}',
    variable: 'HEX_API_KEY',
    sample: fakeChars(9605, 32, HEX),
    verify: headerVerify('https://hex.pm/api/users/me', 'Authorization'),
  }),
  namedSecretRule({
    id: 'quay-robot-token',
    description: 'Quay.io robot account token or OAuth token',
    names: ['quay'],
    value: '[0-9A-Z]{64}|[0-9A-Za-z]{40}',
    caseSensitive: true,
    variable: 'QUAY_TOKEN',
    sample: fakeChars(9606, 64, UPPER36),
  }),
  namedSecretRule({
    id: 'chocolatey-api-key',
    description: 'Chocolatey community repository API key',
    names: ['chocolatey', 'choco_api_key'],
    value: UUID,
    variable: 'CHOCOLATEY_API_KEY',
    sample: fakeUuid(9607),
  }),
];
