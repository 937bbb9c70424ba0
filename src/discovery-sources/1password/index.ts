// The 1Password discovery sources (1PUX and CSV exports), as the table (../discovery-source-table.ts) loads them.
export { onePassword1puxDiscoverySource, onePasswordCsvDiscoverySource } from './onepassword-discovery-source.js';
