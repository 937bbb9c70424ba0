// AWS CloudTrail records (`{"Records":[...]}` files, usually gzip, as a trail delivers them to S3; or one record per
// line from CloudTrail Lake / EventBridge exports). The key is `userIdentity.accessKeyId` (AKIA... long-term,
// ASIA... temporary); `sourceIPAddress` is an IP, or a service name when a service acted for the caller.
import { ipAt, type JsonRecord, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

export const cloudtrailAuditLogReader: AuditLogReader = {
  format: 'cloudtrail',
  provider: 'aws-iam',
  description: 'AWS CloudTrail records: {"Records":[...]} files (gzip or plain) or one record per line',
  envelopeKeys: ['Records'],
  recognises: (record) =>
    typeof record.eventVersion === 'string' && typeof record.eventSource === 'string' && 'eventName' in record,
  read(record: JsonRecord): AuditLogRecord | string {
    const at = timestampAt(record, 'eventTime');
    if (!at) return 'eventTime missing or not a time';
    const action = textAt(record, 'eventName');
    if (!action) return 'eventName missing';
    const accessKeyId = textAt(record, 'userIdentity.accessKeyId');
    const sourceIp = ipAt(record, 'sourceIPAddress');
    const viaService = sourceIp ? undefined : textAt(record, 'sourceIPAddress');
    const principal =
      textAt(record, 'userIdentity.arn') ??
      textAt(record, 'userIdentity.userName') ??
      textAt(record, 'userIdentity.principalId');
    const errorCode = textAt(record, 'errorCode');
    const userAgent = textAt(record, 'userAgent');
    const recordId = textAt(record, 'eventID');
    return {
      format: 'cloudtrail',
      provider: 'aws-iam',
      at,
      ...(accessKeyId
        ? { credential: { providerKeyId: accessKeyId, ...(accessKeyId.startsWith('ASIA') ? { temporary: true } : {}) } }
        : {}),
      ...(principal ? { principal } : {}),
      ...(sourceIp ? { sourceIp } : {}),
      ...(viaService ? { viaService } : {}),
      action,
      outcome: errorCode ? 'failure' : 'success',
      ...(errorCode ? { errorCode } : {}),
      ...(userAgent ? { userAgent } : {}),
      ...(recordId ? { recordId } : {}),
    };
  },
};
