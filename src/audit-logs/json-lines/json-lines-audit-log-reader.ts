// Any other JSON audit log, read through a mapping the user writes (which field holds the time, the key id, the
// IP...): an internal API gateway's access log, a SIEM export, a provider we have no reader for. The mapping is
// a small YAML/JSON file validated here; `--format json-lines --mapping FILE` selects it.
import { z } from 'zod';
import { ConfigError } from '../../errors/keyledger-error.js';
import { ipAt, type JsonRecord, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

const fieldPath = z.string().trim().min(1);

export const auditLogMappingSchema = z
  .object({
    /** The provider the keys belong to, as the registry names it. */
    provider: z.string().trim().min(1),
    at: fieldPath,
    key_id: fieldPath.optional(),
    hashed_token: fieldPath.optional(),
    principal: fieldPath.optional(),
    source_ip: fieldPath.optional(),
    action: fieldPath.optional(),
    /** A field that is true, "success", "ok" or a 1xx-3xx status on success; anything else is a failure. */
    outcome: fieldPath.optional(),
    error_code: fieldPath.optional(),
    user_agent: fieldPath.optional(),
    record_id: fieldPath.optional(),
  })
  .strict()
  .refine((mapping) => mapping.key_id || mapping.hashed_token || mapping.principal, {
    message: 'map at least one of key_id, hashed_token or principal: otherwise no record names who acted',
  });

export type AuditLogMapping = z.output<typeof auditLogMappingSchema>;

export function parseAuditLogMapping(value: unknown, file: string): AuditLogMapping {
  const parsed = auditLogMappingSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${file}: ${issue.path.join('.') || 'mapping'}: ${issue.message}`, {
      code: 'E_AUDIT_LOG_MAPPING',
      position: { file, field: issue.path.join('.') },
    });
  }
  return parsed.data;
}

export function jsonLinesAuditLogReader(mapping: AuditLogMapping): AuditLogReader {
  return {
    format: 'json-lines',
    provider: mapping.provider,
    description: 'JSON records of any shape, read through a field mapping (--mapping FILE)',
    envelopeKeys: ['records', 'data', 'items', 'events'],
    recognises: (record) => textAt(record, mapping.at) !== undefined,
    read(record: JsonRecord): AuditLogRecord | string {
      const at = timestampAt(record, mapping.at);
      if (!at) return `${mapping.at} missing or not a time`;
      const keyId = mapping.key_id ? textAt(record, mapping.key_id) : undefined;
      const hashedToken = mapping.hashed_token ? textAt(record, mapping.hashed_token) : undefined;
      const principal = mapping.principal ? textAt(record, mapping.principal) : undefined;
      const sourceIp = mapping.source_ip ? ipAt(record, mapping.source_ip) : undefined;
      const action = (mapping.action ? textAt(record, mapping.action) : undefined) ?? 'request';
      const outcomeText = mapping.outcome ? textAt(record, mapping.outcome) : undefined;
      const outcomeValue = mapping.outcome ? record[mapping.outcome] : undefined;
      const failed = mapping.outcome !== undefined && !isSuccess(outcomeValue === true ? 'true' : outcomeText);
      const errorCode = mapping.error_code ? textAt(record, mapping.error_code) : undefined;
      const userAgent = mapping.user_agent ? textAt(record, mapping.user_agent) : undefined;
      const recordId = mapping.record_id ? textAt(record, mapping.record_id) : undefined;
      return {
        format: 'json-lines',
        provider: mapping.provider,
        at,
        ...(keyId || hashedToken
          ? { credential: { ...(keyId ? { providerKeyId: keyId } : {}), ...(hashedToken ? { hashedToken } : {}) } }
          : {}),
        ...(principal ? { principal } : {}),
        ...(sourceIp ? { sourceIp } : {}),
        action,
        outcome: failed || errorCode ? 'failure' : 'success',
        ...(errorCode ? { errorCode } : {}),
        ...(userAgent ? { userAgent } : {}),
        ...(recordId ? { recordId } : {}),
      };
    },
  };
}

function isSuccess(value: string | undefined): boolean {
  if (value === undefined) return false;
  const text = value.trim().toLowerCase();
  if (text === 'true' || text === 'success' || text === 'ok' || text === 'succeeded') return true;
  return /^[123]\d\d$/.test(text);
}
