// keyledger's own internal keys (src/providers/internal/): prefix_env_ + 30 random + a 6-character base62 CRC32
// checksum, validated so that look-alikes are not reported.
import { fakeChars, internalKey, t } from '../canary-secrets.js';
import { type BuiltinRule, customRule, END } from '../rule-builders.js';

const internal = internalKey('kl', 'live', 49);

export const KEYLEDGER_RULES: BuiltinRule[] = [
  customRule({
    id: 'keyledger-internal-key',
    description: 'keyledger internal key (prefix_env_ + 30 random + 6 CRC32 checksum, base62)',
    regex: `\\b([a-z][a-z0-9]{1,15}_(?:live|test|dev|stage|staging|prod)_[0-9A-Za-z]{36})${END}`,
    keywords: ['_live_', '_test_', '_dev_', '_stage_', '_staging_', '_prod_'],
    validate: 'internal-crc32',
    provider: 'internal',
    positives: [{ text: `KEYLEDGER_KEY=${internal}\n`, secret: internal }],
    negatives: [
      `KEYLEDGER_KEY=${internal.slice(0, -1)}${internal.endsWith('0') ? '1' : '0'}\n`,
      t('sk_live_', fakeChars(56, 36)),
    ],
  }),
];
