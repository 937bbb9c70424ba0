// Datadog Audit Trail events as `GET/POST /api/v2/audit/events` return them (`{"data":[{"id","type":"audit",
// "attributes":{"timestamp", "attributes":{...}}}]}`), and the same events exported one per line. The key that
// made a request is `@metadata.api_key.id` (its id, never the key); the application key is
// `@metadata.application_key.id`.
import { ipAt, type JsonRecord, objectAt, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

export const datadogAuditLogReader: AuditLogReader = {
  format: 'datadog',
  provider: 'datadog',
  description: 'Datadog Audit Trail events: API pages ({"data":[...]}) or one event per line',
  envelopeKeys: ['data'],
  recognises: (record) => record.type === 'audit' && typeof record.attributes === 'object',
  read(record: JsonRecord): AuditLogRecord | string {
    const outer = objectAt(record, 'attributes');
    if (!outer) return 'attributes missing';
    const at = timestampAt(outer, 'timestamp');
    if (!at) return 'attributes.timestamp missing or not a time';
    // The event's own facets (`@...` in the Datadog UI) sit one level further in.
    const facets = objectAt(outer, 'attributes') ?? {};
    const apiKeyId = textAt(facets, 'metadata.api_key.id');
    const applicationKeyId = textAt(facets, 'metadata.application_key.id');
    const keyId = apiKeyId ?? applicationKeyId;
    const method = textAt(facets, 'http.method');
    const path = textAt(facets, 'http.url_details.path');
    const action =
      method && path ? `${method} ${path}` : (textAt(facets, 'action') ?? textAt(facets, 'evt.name') ?? 'event');
    const status = Number(textAt(facets, 'http.status_code') ?? 0);
    const failed = status >= 400;
    const principal = textAt(facets, 'usr.email') ?? textAt(facets, 'usr.handle') ?? textAt(facets, 'usr.id');
    const sourceIp = ipAt(facets, 'network.client.ip');
    const userAgent = textAt(facets, 'http.useragent');
    const recordId = textAt(record, 'id');
    return {
      format: 'datadog',
      provider: 'datadog',
      at,
      ...(keyId ? { credential: { providerKeyId: keyId } } : {}),
      ...(principal ? { principal } : {}),
      ...(sourceIp ? { sourceIp } : {}),
      action,
      outcome: failed ? 'failure' : 'success',
      ...(failed ? { errorCode: String(status) } : {}),
      ...(userAgent ? { userAgent } : {}),
      ...(recordId ? { recordId } : {}),
    };
  },
};
