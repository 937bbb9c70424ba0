// Trading, market data and blockchain platforms: Bittrex, Kraken, KuCoin, Finnhub, SettleMint. Each rule with
// its true- and false-positive cases.
import { fakeChars, fakeUuid, HEX, t } from '../canary-secrets.js';
import { type BuiltinRule, namedSecretRule, tokenRule, UUID } from '../rule-builders.js';

export const FINANCE_RULES: BuiltinRule[] = [
  namedSecretRule({
    id: 'bittrex-access-key',
    description: 'Bittrex API key',
    names: ['bittrex'],
    value: '[0-9A-Za-z]{32}',
    variable: 'BITTREX_API_KEY',
    sample: fakeChars(3501, 32),
  }),
  namedSecretRule({
    id: 'bittrex-secret-key',
    description: 'Bittrex API secret',
    names: [String.raw`bittrex[\w.-]{0,16}?secret`],
    keywords: ['bittrex'],
    value: '[0-9A-Za-z]{32}',
    variable: 'BITTREX_API_SECRET',
    sample: fakeChars(3502, 32),
  }),
  namedSecretRule({
    id: 'kraken-access-token',
    description: 'Kraken API key or private key',
    names: ['kraken'],
    value: '[0-9A-Za-z/=_+-]{80,90}',
    variable: 'KRAKEN_PRIVATE_KEY',
    sample: fakeChars(3503, 88, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'),
  }),
  namedSecretRule({
    id: 'kucoin-access-token',
    description: 'KuCoin API key',
    names: ['kucoin'],
    value: '[0-9a-fA-F]{24}',
    variable: 'KUCOIN_API_KEY',
    sample: fakeChars(3504, 24, HEX),
  }),
  namedSecretRule({
    id: 'kucoin-secret-key',
    description: 'KuCoin API secret',
    names: ['kucoin'],
    value: UUID,
    variable: 'KUCOIN_API_SECRET',
    sample: fakeUuid(3505),
  }),
  namedSecretRule({
    id: 'finnhub-access-token',
    description: 'Finnhub API key',
    names: ['finnhub'],
    value: '[0-9A-Za-z]{20}',
    variable: 'FINNHUB_API_KEY',
    sample: fakeChars(3506, 20),
  }),
  tokenRule({
    id: 'settlemint-application-access-token',
    description: 'SettleMint application access token',
    token: 'sm_aat_[0-9A-Za-z]{16}',
    keywords: ['sm_aat_'],
    variable: 'SETTLEMINT_ACCESS_TOKEN',
    sample: t('sm_aat_', fakeChars(3507, 16)),
  }),
  tokenRule({
    id: 'settlemint-personal-access-token',
    description: 'SettleMint personal access token',
    token: 'sm_pat_[0-9A-Za-z]{16}',
    keywords: ['sm_pat_'],
    variable: 'SETTLEMINT_PERSONAL_ACCESS_TOKEN',
    sample: t('sm_pat_', fakeChars(3508, 16)),
  }),
  tokenRule({
    id: 'settlemint-service-access-token',
    description: 'SettleMint service access token',
    token: 'sm_sat_[0-9A-Za-z]{16}',
    keywords: ['sm_sat_'],
    variable: 'SETTLEMINT_SERVICE_TOKEN',
    sample: t('sm_sat_', fakeChars(3509, 16)),
  }),
];
