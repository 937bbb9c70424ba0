// The sendgrid audit-log reader, as the reader table (../audit-log-reader-table.ts) takes it.
export { sendgridAuditLogReader } from './sendgrid-audit-log-reader.js';
