// The entra audit-log reader, as the reader table (../audit-log-reader-table.ts) takes it.
export { entraAuditLogReader } from './entra-audit-log-reader.js';
