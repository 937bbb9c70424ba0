// The IAM credential report as AWS documents it ("Getting credential reports for your AWS account"): a CSV with
// one row per user (the root account first, as `<root_account>`) and these columns, in this order. Dates are
// ISO 8601 with an offset; a key slot without a key says `false` / `N/A`, a key never used `N/A`.
export const CREDENTIAL_REPORT_COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'password_next_rotation',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_1_last_used_region',
  'access_key_1_last_used_service',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
  'access_key_2_last_used_region',
  'access_key_2_last_used_service',
  'cert_1_active',
  'cert_1_last_rotated',
  'cert_2_active',
  'cert_2_last_rotated',
] as const;

export interface CredentialReportUser {
  userName: string;
  arn: string;
  createDate: Date;
  /** At most two, oldest first, as IAM numbers them. */
  keys: Array<{ active: boolean; createDate: Date; lastUsed?: { date: Date; service: string; region: string } }>;
}

function time(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export function credentialReportCsv(
  accountId: string,
  accountCreated: Date,
  users: readonly CredentialReportUser[],
): string {
  const rows: string[][] = [[...CREDENTIAL_REPORT_COLUMNS]];
  rows.push([
    '<root_account>',
    `arn:aws:iam::${accountId}:root`,
    time(accountCreated),
    'not_supported',
    'no_information',
    'not_supported',
    'not_supported',
    'true',
    'false',
    'N/A',
    'N/A',
    'N/A',
    'N/A',
    'false',
    'N/A',
    'N/A',
    'N/A',
    'N/A',
    'false',
    'N/A',
    'false',
    'N/A',
  ]);
  for (const user of users) {
    const slot = (index: number) => {
      const key = user.keys[index];
      if (!key) return ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
      return [
        String(key.active),
        time(key.createDate),
        key.lastUsed ? time(key.lastUsed.date) : 'N/A',
        key.lastUsed?.region ?? 'N/A',
        key.lastUsed?.service ?? 'N/A',
      ];
    };
    rows.push([
      user.userName,
      user.arn,
      time(user.createDate),
      'false',
      'N/A',
      'N/A',
      'N/A',
      'false',
      ...slot(0),
      ...slot(1),
      'false',
      'N/A',
      'false',
      'N/A',
    ]);
  }
  return `${rows.map((row) => row.join(',')).join('\n')}\n`;
}
