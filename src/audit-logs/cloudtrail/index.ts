// The cloudtrail audit-log reader, as the reader table (../audit-log-reader-table.ts) takes it.
export { cloudtrailAuditLogReader } from './cloudtrail-audit-log-reader.js';
