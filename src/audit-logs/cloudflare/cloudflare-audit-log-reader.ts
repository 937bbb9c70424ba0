// Cloudflare account audit logs, both versions the API serves: version 2 (`GET /accounts/{account_id}/logs/audit`:
// `{"result":[{"id","account","action":{"time","type","result","description"},"actor":{"id","context","email",
// "ip_address","token_id","token_name","type"},"raw":{"method","status_code","uri","user_agent"},"resource":{...},
// "zone"}]}`), where an API token's calls carry its id in `actor.token_id`; and version 1 (`GET /accounts/{id}/
// audit_logs`: `{"result":[{"id","action":{"type","result"},"actor":{"id","email","ip","type"},"interface",
// "resource":{"id","type"},"when"}]}`), which names no token but names the token acted on when the resource is one.
import { ipAt, type JsonRecord, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

export const cloudflareAuditLogReader: AuditLogReader = {
  format: 'cloudflare',
  provider: 'cloudflare',
  description: 'Cloudflare audit logs, v2 (/logs/audit) and v1 (/audit_logs): API pages ({"result":[...]}) or lines',
  envelopeKeys: ['result'],
  recognises: (record) =>
    typeof record.action === 'object' &&
    typeof record.actor === 'object' &&
    (typeof record.when === 'string' || typeof (record.action as JsonRecord | null)?.time === 'string'),
  read(record: JsonRecord): AuditLogRecord | string {
    const v2 = textAt(record, 'action.time') !== undefined;
    const at = v2 ? timestampAt(record, 'action.time') : timestampAt(record, 'when');
    if (!at) return v2 ? 'action.time is not a time' : 'when missing or not a time';
    const type = textAt(record, 'action.type');
    if (!type) return 'action.type missing';
    const result = (record.action as JsonRecord).result;
    const failed = v2 ? typeof result === 'string' && result !== 'success' : result === false;
    const status = Number(textAt(record, 'raw.status_code') ?? 0);
    const tokenId =
      v2 && textAt(record, 'actor.context') === 'api_token' ? textAt(record, 'actor.token_id') : undefined;
    const principal = textAt(record, 'actor.email') ?? textAt(record, 'actor.id');
    const sourceIp = ipAt(record, v2 ? 'actor.ip_address' : 'actor.ip');
    const resourceType = textAt(record, 'resource.type');
    const subjectKeyId =
      resourceType && /^(api[_ ]?token|token)$/i.test(resourceType) ? textAt(record, 'resource.id') : undefined;
    const method = textAt(record, 'raw.method');
    const uri = textAt(record, 'raw.uri');
    const userAgent = textAt(record, 'raw.user_agent');
    const recordId = textAt(record, 'id');
    return {
      format: 'cloudflare',
      provider: 'cloudflare',
      at,
      ...(tokenId ? { credential: { providerKeyId: tokenId } } : {}),
      ...(principal ? { principal } : {}),
      ...(sourceIp ? { sourceIp } : {}),
      action: method && uri ? `${type} ${method} ${uri}` : type,
      outcome: failed || status >= 400 ? 'failure' : 'success',
      ...(failed || status >= 400 ? { errorCode: status >= 400 ? String(status) : String(result) } : {}),
      ...(userAgent ? { userAgent } : {}),
      ...(subjectKeyId ? { subjectKeyId } : {}),
      ...(recordId ? { recordId } : {}),
    };
  },
};
