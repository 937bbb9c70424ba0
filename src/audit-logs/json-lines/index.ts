// The mapped JSON-lines reader and its mapping schema, as the reader table (../audit-log-reader-table.ts) takes it.
export {
  type AuditLogMapping,
  auditLogMappingSchema,
  jsonLinesAuditLogReader,
  parseAuditLogMapping,
} from './json-lines-audit-log-reader.js';
