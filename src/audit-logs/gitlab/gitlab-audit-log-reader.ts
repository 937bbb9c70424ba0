// GitLab: audit events (`GET /audit_events`, `/groups/:id/audit_events`, `/projects/:id/audit_events`: a JSON
// array; streaming destinations send one per request) and self-managed `api_json.log` lines, which are the only
// GitLab source that names the token of each API call (`token_type`, `token_id`). Audit events about access
// tokens name the token acted on as their target.
import { ipAt, type JsonRecord, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

export const gitlabAuditLogReader: AuditLogReader = {
  format: 'gitlab',
  provider: 'gitlab',
  description: 'GitLab audit events (API arrays, streaming) and api_json.log request lines (token_id per call)',
  envelopeKeys: [],
  recognises: (record) =>
    ('author_id' in record && 'entity_type' in record && 'details' in record) ||
    ('token_type' in record && 'route' in record) ||
    ('meta.caller_id' in record && 'remote_ip' in record),
  read(record: JsonRecord): AuditLogRecord | string {
    return 'details' in record ? readAuditEvent(record) : readApiLogLine(record);
  },
};

function readAuditEvent(record: JsonRecord): AuditLogRecord | string {
  const at = timestampAt(record, 'created_at');
  if (!at) return 'created_at missing or not a time';
  const targetType = textAt(record, 'details.target_type') ?? '';
  const subjectKeyId = /AccessToken$/.test(targetType) ? textAt(record, 'details.target_id') : undefined;
  const action =
    textAt(record, 'event_name') ??
    textAt(record, 'details.custom_message') ??
    textAt(record, 'details.action') ??
    (textAt(record, 'details.change') ? `change ${textAt(record, 'details.change')}` : undefined) ??
    'audit-event';
  const principal =
    textAt(record, 'details.author_email') ?? textAt(record, 'details.author_name') ?? textAt(record, 'author_id');
  const sourceIp = ipAt(record, 'details.ip_address');
  const recordId = textAt(record, 'id');
  return {
    format: 'gitlab',
    provider: 'gitlab',
    at,
    ...(principal ? { principal } : {}),
    ...(sourceIp ? { sourceIp } : {}),
    action,
    outcome: 'success',
    ...(subjectKeyId ? { subjectKeyId } : {}),
    ...(recordId ? { recordId } : {}),
  };
}

function readApiLogLine(record: JsonRecord): AuditLogRecord | string {
  const at = timestampAt(record, 'time');
  if (!at) return 'time missing or not a time';
  const tokenId = textAt(record, 'token_id');
  const method = textAt(record, 'method') ?? 'GET';
  const route = textAt(record, 'route') ?? textAt(record, 'path');
  if (!route) return 'route / path missing';
  const status = Number(textAt(record, 'status') ?? 0);
  const failed = status >= 400;
  const principal = textAt(record, 'meta.user') ?? textAt(record, 'username') ?? textAt(record, 'user_id');
  const sourceIp = ipAt(record, 'remote_ip') ?? ipAt(record, 'meta.remote_ip');
  const userAgent = textAt(record, 'ua');
  const recordId = textAt(record, 'correlation_id');
  return {
    format: 'gitlab',
    provider: 'gitlab',
    at,
    ...(tokenId ? { credential: { providerKeyId: tokenId } } : {}),
    ...(principal ? { principal } : {}),
    ...(sourceIp ? { sourceIp } : {}),
    action: `${method} ${route}`,
    outcome: failed ? 'failure' : 'success',
    ...(failed ? { errorCode: String(status) } : {}),
    ...(userAgent ? { userAgent } : {}),
    ...(recordId ? { recordId } : {}),
  };
}
