// OpenAI organisation audit logs (`GET /v1/organization/audit_logs`: `{"object":"list","data":[...]}`). These are
// admin actions (`api_key.created`, `api_key.deleted`, `project.archived`...), not each model call; the actor is
// an API key (`actor.api_key.id`, a `key_...` tracking id) or a dashboard session (with `ip_address`). For
// `api_key.*` events the object named by the event type carries the id of the key acted on.
import { ipAt, type JsonRecord, objectAt, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

export const openaiAuditLogReader: AuditLogReader = {
  format: 'openai',
  provider: 'openai',
  description: 'OpenAI organisation audit logs: API pages ({"object":"list","data":[...]}) or one event per line',
  envelopeKeys: ['data'],
  recognises: (record) =>
    typeof record.type === 'string' && 'effective_at' in record && typeof record.actor === 'object',
  read(record: JsonRecord): AuditLogRecord | string {
    const at = timestampAt(record, 'effective_at');
    if (!at) return 'effective_at missing or not a time';
    const action = textAt(record, 'type');
    if (!action) return 'type missing';
    const actorType = textAt(record, 'actor.type');
    const apiKeyId = actorType === 'api_key' ? textAt(record, 'actor.api_key.id') : undefined;
    const principal =
      textAt(record, 'actor.session.user.email') ??
      textAt(record, 'actor.api_key.user.email') ??
      textAt(record, 'actor.api_key.service_account.id') ??
      textAt(record, 'actor.session.user.id') ??
      textAt(record, 'actor.api_key.user.id');
    const sourceIp = ipAt(record, 'actor.session.ip_address');
    const userAgent = textAt(record, 'actor.session.user_agent');
    // `api_key.created` and friends: the event's own object (keyed by the type) names the key acted on.
    const subject = action.startsWith('api_key.') ? objectAt(record, action) : undefined;
    const subjectKeyId = subject ? textAt(subject, 'id') : undefined;
    const recordId = textAt(record, 'id');
    return {
      format: 'openai',
      provider: 'openai',
      at,
      ...(apiKeyId ? { credential: { providerKeyId: apiKeyId } } : {}),
      ...(principal ? { principal } : {}),
      ...(sourceIp ? { sourceIp } : {}),
      action,
      outcome: 'success',
      ...(subjectKeyId ? { subjectKeyId } : {}),
      ...(userAgent ? { userAgent } : {}),
      ...(recordId ? { recordId } : {}),
    };
  },
};
