// The datadog audit-log reader, as the reader table (../audit-log-reader-table.ts) takes it.
export { datadogAuditLogReader } from './datadog-audit-log-reader.js';
