// Databases and data platforms: PlanetScale, Supabase, ClickHouse Cloud, Databricks, Confluent, ADO.NET
// connection strings (URL connection strings: generic-rules.ts).
import { fakeChars, HEX, t, UPPER36, URL_SAFE } from '../canary-secrets.js';
import { type BuiltinRule, namedSecretRule, tokenRule } from '../rule-builders.js';

export const DATABASE_RULES: BuiltinRule[] = [
  tokenRule({
    id: 'planetscale-api-token',
    description: 'PlanetScale service token',
    token: 'pscale_tkn_[0-9A-Za-z_.=-]{32,64}',
    keywords: ['pscale_tkn_'],
    variable: 'PLANETSCALE_SERVICE_TOKEN',
    sample: t('pscale_tkn_', fakeChars(1901, 43, URL_SAFE)),
  }),
  tokenRule({
    id: 'planetscale-oauth-token',
    description: 'PlanetScale OAuth token',
    token: 'pscale_oauth_[0-9A-Za-z_.=-]{32,64}',
    keywords: ['pscale_oauth_'],
    variable: 'PLANETSCALE_OAUTH_TOKEN',
    sample: t('pscale_oauth_', fakeChars(1902, 43, URL_SAFE)),
  }),
  tokenRule({
    id: 'planetscale-password',
    description: 'PlanetScale database password',
    token: 'pscale_pw_[0-9A-Za-z_.=-]{32,64}',
    keywords: ['pscale_pw_'],
    variable: 'DATABASE_PASSWORD',
    sample: t('pscale_pw_', fakeChars(1903, 43, URL_SAFE)),
  }),
  tokenRule({
    id: 'supabase-access-token',
    description: 'Supabase personal access token',
    token: 'sbp_[0-9a-f]{40}',
    keywords: ['sbp_'],
    variable: 'SUPABASE_ACCESS_TOKEN',
    sample: t('sbp_', fakeChars(1904, 40, HEX)),
  }),
  tokenRule({
    id: 'clickhouse-cloud-api-secret-key',
    description: 'ClickHouse Cloud API secret key',
    token: '4b1d[0-9A-Za-z]{38}',
    keywords: ['4b1d'],
    variable: 'CLICKHOUSE_KEY_SECRET',
    sample: t('4b1d', fakeChars(1905, 38)),
  }),
  tokenRule({
    id: 'databricks-api-token',
    description: 'Databricks personal access token',
    token: 'dapi[0-9a-f]{32}(?:-[0-9])?',
    keywords: ['dapi'],
    variable: 'DATABRICKS_TOKEN',
    sample: t('dapi', fakeChars(1906, 32, HEX)),
  }),
  namedSecretRule({
    id: 'confluent-secret-key',
    description: 'Confluent Cloud API secret',
    names: ['confluent'],
    value: '[0-9A-Za-z+/]{64}',
    variable: 'CONFLUENT_CLOUD_API_SECRET',
    sample: fakeChars(1907, 64),
  }),
  {
    definition: {
      id: 'ado-connection-string-password',
      description: 'Password in an ADO.NET / ODBC connection string (Server=...;Password=...)',
      regex: String.raw`(?i)(?:server|data source|host)\s{0,3}=[^;\n]{1,200};[^\n]{0,300}?(?:password|pwd)\s{0,3}=\s{0,3}([^;'"\s<>{}$]{6,128})(?:;|['"\s]|$)`,
      keywords: ['password=', 'pwd=', 'password =', 'pwd ='],
      entropy: 3,
      tags: [],
      allowlists: [],
    },
    fixture: {
      ruleId: 'ado-connection-string-password',
      positives: [
        {
          text: t(
            '"Server=tcp:db.example.net,1433;Database=app;User ID=svc;',
            'Password=',
            fakeChars(1908, 24),
            ';Encrypt=True;"',
          ),
          secret: fakeChars(1908, 24),
        },
      ],
      negatives: [
        'Server=db;Database=app;User ID=svc;Password={your_password};',
        'Server=db;Integrated Security=true;',
      ],
    },
  },
  namedSecretRule({
    id: 'confluent-access-token',
    description: 'Confluent Cloud API key',
    names: ['confluent'],
    value: '[0-9A-Za-z]{16}',
    variable: 'CONFLUENT_CLOUD_API_KEY',
    sample: fakeChars(4001, 16, UPPER36),
  }),
  namedSecretRule({
    id: 'looker-client-id',
    description: 'Looker API client id',
    names: ['looker'],
    value: '[0-9A-Za-z]{20}',
    variable: 'LOOKERSDK_CLIENT_ID',
    sample: fakeChars(4002, 20),
  }),
  namedSecretRule({
    id: 'looker-client-secret',
    description: 'Looker API client secret',
    names: ['looker'],
    value: '[0-9A-Za-z]{24}',
    variable: 'LOOKERSDK_CLIENT_SECRET',
    sample: fakeChars(4003, 24),
  }),
  tokenRule({
    id: 'supabase-secret-key',
    description: 'Supabase secret API key (sb_secret_)',
    token: 'sb_secret_[0-9A-Za-z_-]{31,40}',
    keywords: ['sb_secret_'],
    variable: 'SUPABASE_SECRET_KEY',
    sample: t('sb_secret_', fakeChars(4601, 31, URL_SAFE)),
  }),
];
