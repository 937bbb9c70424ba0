// The gcp audit-log reader, as the reader table (../audit-log-reader-table.ts) takes it.
export { gcpAuditLogReader } from './gcp-audit-log-reader.js';
