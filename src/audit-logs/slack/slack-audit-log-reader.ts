// Slack Audit Logs API (Enterprise Grid; `GET https://api.slack.com/audit/v1/logs`: `{"entries":[{"id",
// "date_create","action","actor":{"type","user":{"id","name","email","team"}},"entity":{"type", "<type>":{...}},
// "context":{"location":{...},"ua","ip_address","session_id"},"details":{...}}],"response_metadata":{...}}`). Slack
// logs what people and apps did, not which token did it: records name their principal (the actor's email or id)
// and, when the entity is an app or a bot, the app acted on. Failed logins (`user_login_failed`) are failures.
import { ipAt, type JsonRecord, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

export const slackAuditLogReader: AuditLogReader = {
  format: 'slack',
  provider: 'slack',
  description: 'Slack Audit Logs API entries: API pages ({"entries":[...]}) or one entry per line',
  envelopeKeys: ['entries'],
  recognises: (record) =>
    typeof record.action === 'string' && 'date_create' in record && typeof record.actor === 'object',
  read(record: JsonRecord): AuditLogRecord | string {
    const at = timestampAt(record, 'date_create');
    if (!at) return 'date_create missing or not a time';
    const action = textAt(record, 'action');
    if (!action) return 'action missing';
    const principal = textAt(record, 'actor.user.email') ?? textAt(record, 'actor.user.id');
    const sourceIp = ipAt(record, 'context.ip_address');
    const userAgent = textAt(record, 'context.ua');
    const entityType = textAt(record, 'entity.type');
    const subjectKeyId =
      entityType === 'app'
        ? textAt(record, 'entity.app.id')
        : entityType === 'bot'
          ? textAt(record, 'entity.bot.id')
          : undefined;
    const failed = /_failed$|_denied$/.test(action);
    const recordId = textAt(record, 'id');
    return {
      format: 'slack',
      provider: 'slack',
      at,
      ...(principal ? { principal } : {}),
      ...(sourceIp ? { sourceIp } : {}),
      action,
      outcome: failed ? 'failure' : 'success',
      ...(failed ? { errorCode: action } : {}),
      ...(userAgent ? { userAgent } : {}),
      ...(subjectKeyId ? { subjectKeyId } : {}),
      ...(recordId ? { recordId } : {}),
    };
  },
};
