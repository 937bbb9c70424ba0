// Twilio Monitor Events (`GET https://monitor.twilio.com/v1/Events`: `{"events":[{"sid","account_sid","actor_sid",
// "actor_type","description","event_data","event_date","event_type","resource_sid","resource_type","source",
// "source_ip_address","url","links"}],"meta":{...}}`). An event made with an API key has the key's SID (`SK...`) as
// `actor_sid`; made with the account's auth token, the account SID (`AC...`); in the console, a user (`US...`).
// Events about a key (`api-key.created`, `api-key.deleted`) name it in `resource_sid`.
import { ipAt, type JsonRecord, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

const KEY_SID = /^SK[0-9a-f]{32}$/i;

export const twilioAuditLogReader: AuditLogReader = {
  format: 'twilio',
  provider: 'twilio',
  description: 'Twilio Monitor Events: API pages ({"events":[...]}) or one event per line',
  envelopeKeys: ['events'],
  recognises: (record) => typeof record.event_type === 'string' && typeof record.event_date === 'string',
  read(record: JsonRecord): AuditLogRecord | string {
    const at = timestampAt(record, 'event_date');
    if (!at) return 'event_date missing or not a time';
    const action = textAt(record, 'event_type');
    if (!action) return 'event_type missing';
    const actor = textAt(record, 'actor_sid');
    const credential = actor && KEY_SID.test(actor) ? actor : undefined;
    const resource = textAt(record, 'resource_sid');
    const subjectKeyId = resource && KEY_SID.test(resource) ? resource : undefined;
    const sourceIp = ipAt(record, 'source_ip_address');
    const recordId = textAt(record, 'sid');
    // Monitor records what was done; a refused call leaves no event, so every event is a success.
    return {
      format: 'twilio',
      provider: 'twilio',
      at,
      ...(credential ? { credential: { providerKeyId: credential } } : {}),
      ...(actor ? { principal: actor } : {}),
      ...(sourceIp ? { sourceIp } : {}),
      action,
      outcome: 'success',
      ...(subjectKeyId ? { subjectKeyId } : {}),
      ...(recordId ? { recordId } : {}),
    };
  },
};
