// Google Cloud Audit Logs entries (Cloud Logging `LogEntry` with an `AuditLog` protoPayload), from `gcloud logging
// read --format=json` (an array), a sink's JSON lines, or the API's `{"entries":[...]}` pages. A service-account
// key is named by `authenticationInfo.serviceAccountKeyName`, whose last path segment is the key id.
import { ipAt, type JsonRecord, objectAt, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

export const gcpAuditLogReader: AuditLogReader = {
  format: 'gcp',
  provider: 'gcp',
  description: 'Google Cloud Audit Logs entries: gcloud JSON, sink JSON lines or API pages',
  envelopeKeys: ['entries'],
  recognises: (record) => {
    const payload = record.protoPayload;
    return typeof payload === 'object' && payload !== null && 'methodName' in payload;
  },
  read(record: JsonRecord): AuditLogRecord | string {
    const at = timestampAt(record, 'timestamp') ?? timestampAt(record, 'receiveTimestamp');
    if (!at) return 'timestamp missing or not a time';
    const action = textAt(record, 'protoPayload.methodName');
    if (!action) return 'protoPayload.methodName missing';
    const keyName = textAt(record, 'protoPayload.authenticationInfo.serviceAccountKeyName');
    const keyId = keyName?.split('/').filter(Boolean).pop();
    const principal = textAt(record, 'protoPayload.authenticationInfo.principalEmail');
    const sourceIp = ipAt(record, 'protoPayload.requestMetadata.callerIp');
    const userAgent = textAt(record, 'protoPayload.requestMetadata.callerSuppliedUserAgent');
    const status = objectAt(record, 'protoPayload.status');
    const code = status ? textAt(status, 'code') : undefined;
    const failed = code !== undefined && code !== '0';
    const recordId = textAt(record, 'insertId');
    return {
      format: 'gcp',
      provider: 'gcp',
      at,
      ...(keyId ? { credential: { providerKeyId: keyId } } : {}),
      ...(principal ? { principal } : {}),
      ...(sourceIp ? { sourceIp } : {}),
      action,
      outcome: failed ? 'failure' : 'success',
      ...(failed ? { errorCode: code } : {}),
      ...(userAgent ? { userAgent } : {}),
      ...(recordId ? { recordId } : {}),
    };
  },
};
