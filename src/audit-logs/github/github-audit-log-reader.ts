// GitHub organisation and enterprise audit-log events (the REST API's JSON array, the web export, and streaming's
// JSON lines). A token is named by `hashed_token` (base64 of the SHA-256 of the raw token) and, for fine-grained
// PATs, `token_id`, which matches the id in the organisation's PAT list. `actor_ip` appears only where the
// organisation shows IPs; `@timestamp` and `created_at` are milliseconds since the epoch.
import { ipAt, type JsonRecord, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

const HASHED_TOKEN = /^[A-Za-z0-9+/]{43}=$/;

export const githubAuditLogReader: AuditLogReader = {
  format: 'github',
  provider: 'github',
  description: 'GitHub organisation/enterprise audit log: API pages or exports (JSON array or JSON lines)',
  envelopeKeys: [],
  tokenHash: 'sha256-base64',
  recognises: (record) =>
    typeof record.action === 'string' &&
    ('@timestamp' in record || '_document_id' in record || 'hashed_token' in record || 'actor_ip' in record),
  read(record: JsonRecord): AuditLogRecord | string {
    const at = timestampAt(record, '@timestamp') ?? timestampAt(record, 'created_at');
    if (!at) return '@timestamp / created_at missing or not a time';
    const action = textAt(record, 'action');
    if (!action) return 'action missing';
    const hashed = textAt(record, 'hashed_token');
    const hashedToken = hashed && HASHED_TOKEN.test(hashed) ? hashed : undefined;
    // `token_id` names the credential that made the request only when the event was made with a token (it then
    // carries `hashed_token` and `programmatic_access_type`); on a `personal_access_token.*` event done in the web
    // UI it names the token acted upon — granting access to a token is not a use of it.
    const byToken = hashedToken !== undefined || textAt(record, 'programmatic_access_type') !== undefined;
    const tokenId = byToken ? textAt(record, 'token_id') : undefined;
    const principal = textAt(record, 'actor') ?? textAt(record, 'programmatic_access_type');
    const sourceIp = ipAt(record, 'actor_ip');
    const userAgent = textAt(record, 'user_agent');
    const recordId = textAt(record, '_document_id');
    return {
      format: 'github',
      provider: 'github',
      at,
      ...(hashedToken || tokenId
        ? { credential: { ...(tokenId ? { providerKeyId: tokenId } : {}), ...(hashedToken ? { hashedToken } : {}) } }
        : {}),
      ...(principal ? { principal } : {}),
      ...(sourceIp ? { sourceIp } : {}),
      action,
      outcome: 'success',
      ...(userAgent ? { userAgent } : {}),
      ...(recordId ? { recordId } : {}),
    };
  },
};
