// Payments and commerce: Stripe, Shopify, Square, Braintree, Plaid, Shippo, EasyPost, Duffel, Flutterwave,
// GoCardless, Coinbase. Each rule with its cases.
import { fakeChars, fakeUuid, HEX, LOWER36, t, URL_SAFE } from '../canary-secrets.js';
import { type BuiltinRule, customRule, END, namedSecretRule, tokenRule, UUID } from '../rule-builders.js';

const stripeLive = t('sk_live_', fakeChars(36, 24));
const stripeRestricted = t('rk_test_', fakeChars(37, 40));
const whsec = t('whsec_', fakeChars(38, 32));
const shopify = t('shpat_', fakeChars(48, 32, HEX));

export const PAYMENT_RULES: BuiltinRule[] = [
  customRule({
    id: 'stripe-access-token',
    description: 'Stripe secret or restricted key',
    regex: `\\b((?:sk|rk)_(?:live|test|prod)_[0-9A-Za-z]{24,99})${END}`,
    keywords: ['sk_live_', 'sk_test_', 'sk_prod_', 'rk_live_', 'rk_test_', 'rk_prod_'],
    entropy: 3,
    provider: 'stripe',
    positives: [
      { text: `Stripe.apiKey = '${stripeLive}';`, secret: stripeLive },
      { text: `STRIPE_KEY=${stripeRestricted}`, secret: stripeRestricted },
    ],
    negatives: [t('sk_live_', 'tooShort1'), t('sk_test_', '0'.repeat(24))],
  }),
  customRule({
    id: 'stripe-webhook-secret',
    description: 'Stripe webhook signing secret',
    regex: `\\b(whsec_[0-9A-Za-z]{32,88})${END}`,
    keywords: ['whsec_'],
    entropy: 3,
    positives: [{ text: `STRIPE_WEBHOOK_SECRET=${whsec}`, secret: whsec }],
    negatives: ['whsec_ prefix'],
  }),
  customRule({
    id: 'shopify-access-token',
    description: 'Shopify access token',
    regex: `\\b(shp(?:at|ca|pa|ss)_[0-9a-fA-F]{32})${END}`,
    keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'],
    positives: [{ text: `X-Shopify-Access-Token: ${shopify}`, secret: shopify }],
    negatives: [t('shpat_', 'zz')],
  }),
  tokenRule({
    id: 'square-access-token',
    description: 'Square access token',
    token: '(?:EAAA|sq0atp-)[0-9A-Za-z_-]{22,60}',
    keywords: ['eaaa', 'sq0atp-'],
    variable: 'SQUARE_ACCESS_TOKEN',
    sample: t('EAAA', fakeChars(1401, 30, URL_SAFE)),
  }),
  tokenRule({
    id: 'square-oauth-secret',
    description: 'Square OAuth application secret',
    token: 'sq0csp-[0-9A-Za-z_-]{43}',
    keywords: ['sq0csp-'],
    variable: 'SQUARE_APP_SECRET',
    sample: t('sq0csp-', fakeChars(1402, 43, URL_SAFE)),
  }),
  tokenRule({
    id: 'braintree-access-token',
    description: 'Braintree (PayPal) access token',
    token: String.raw`access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}`,
    keywords: ['access_token$'],
    variable: 'BRAINTREE_ACCESS_TOKEN',
    sample: t('access_token$', 'production$', fakeChars(1403, 16, LOWER36), '$', fakeChars(1404, 32, HEX)),
  }),
  tokenRule({
    id: 'plaid-api-token',
    description: 'Plaid access token',
    token: `access-(?:sandbox|development|production)-${UUID}`,
    keywords: ['access-sandbox-', 'access-development-', 'access-production-'],
    variable: 'PLAID_ACCESS_TOKEN',
    sample: t('access-', 'production-', fakeUuid(1405)),
  }),
  namedSecretRule({
    id: 'plaid-secret-key',
    description: 'Plaid API secret',
    names: ['plaid'],
    value: '[0-9a-f]{30}',
    variable: 'PLAID_SECRET',
    sample: fakeChars(1406, 30, HEX),
  }),
  tokenRule({
    id: 'shippo-api-token',
    description: 'Shippo API token',
    token: 'shippo_(?:live|test)_[0-9a-fA-F]{40}',
    keywords: ['shippo_'],
    variable: 'SHIPPO_API_KEY',
    sample: t('shippo_', 'live_', fakeChars(1407, 40, HEX)),
  }),
  tokenRule({
    id: 'easypost-api-token',
    description: 'EasyPost production API key',
    token: 'EZAK[0-9A-Za-z]{54}',
    keywords: ['ezak'],
    variable: 'EASYPOST_API_KEY',
    sample: t('EZAK', fakeChars(1408, 54)),
  }),
  tokenRule({
    id: 'easypost-test-api-token',
    description: 'EasyPost test API key',
    token: 'EZTK[0-9A-Za-z]{54}',
    keywords: ['eztk'],
    variable: 'EASYPOST_TEST_API_KEY',
    sample: t('EZTK', fakeChars(1409, 54)),
  }),
  tokenRule({
    id: 'duffel-api-token',
    description: 'Duffel API token',
    token: 'duffel_(?:test|live)_[0-9A-Za-z_=-]{43}',
    keywords: ['duffel_'],
    variable: 'DUFFEL_ACCESS_TOKEN',
    sample: t('duffel_', 'live_', fakeChars(1410, 43, URL_SAFE)),
  }),
  tokenRule({
    id: 'flutterwave-secret-key',
    description: 'Flutterwave secret key',
    token: 'FLWSECK(?:_TEST)?-[0-9a-h]{32}-X',
    keywords: ['flwseck'],
    variable: 'FLW_SECRET_KEY',
    sample: t('FLWSECK', '_TEST-', fakeChars(1411, 32, 'abcdefgh0123456789'), '-X'),
  }),
  namedSecretRule({
    id: 'gocardless-api-token',
    description: 'GoCardless access token',
    names: ['gocardless'],
    value: '(?:live|sandbox)_[0-9A-Za-z_=-]{40}',
    variable: 'GOCARDLESS_ACCESS_TOKEN',
    sample: t('live_', fakeChars(1412, 40, URL_SAFE)),
  }),
  namedSecretRule({
    id: 'coinbase-access-token',
    description: 'Coinbase API secret',
    names: ['coinbase'],
    value: '[0-9A-Za-z_-]{64}',
    variable: 'COINBASE_API_SECRET',
    sample: fakeChars(1416, 64, URL_SAFE),
  }),
];
