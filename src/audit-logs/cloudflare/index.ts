// The cloudflare audit-log reader, as the reader table (../audit-log-reader-table.ts) takes it.
export { cloudflareAuditLogReader } from './cloudflare-audit-log-reader.js';
