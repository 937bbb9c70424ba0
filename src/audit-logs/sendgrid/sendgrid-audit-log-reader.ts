// SendGrid keeps no per-key audit log; the nearest record is IP Access Management's access activity
// (`GET /v3/access_settings/activity`: `{"result":[{"allowed","auth_method","first_at","ip","last_at",
// "location"}]}`): every address that tried to use the account in the last 30 days, whether the allow list let it
// in, and how it authenticated. It names no key, so these records count per source address and flag refused
// attempts (`allowed: false`); they cannot be joined to an entry.
import { ipAt, type JsonRecord, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

export const sendgridAuditLogReader: AuditLogReader = {
  format: 'sendgrid',
  provider: 'sendgrid',
  description: 'SendGrid IP access activity (/v3/access_settings/activity): API pages ({"result":[...]}) or lines',
  envelopeKeys: ['result'],
  recognises: (record) => typeof record.allowed === 'boolean' && typeof record.auth_method === 'string',
  read(record: JsonRecord): AuditLogRecord | string {
    // `last_at` is the latest attempt the row counts (Unix seconds); `first_at` the earliest.
    const at = timestampAt(record, 'last_at') ?? timestampAt(record, 'first_at');
    if (!at) return 'last_at missing or not a time';
    if (typeof record.allowed !== 'boolean') return 'allowed missing';
    const method = textAt(record, 'auth_method') ?? 'unknown';
    const sourceIp = ipAt(record, 'ip');
    return {
      format: 'sendgrid',
      provider: 'sendgrid',
      at,
      ...(sourceIp ? { sourceIp } : {}),
      action: `access (${method})`,
      outcome: record.allowed ? 'success' : 'failure',
      ...(record.allowed ? {} : { errorCode: 'ip-not-allowed' }),
    };
  },
};
