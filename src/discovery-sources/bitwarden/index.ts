// The Bitwarden discovery source, as the table (../discovery-source-table.ts) loads it.
export { bitwardenJsonDiscoverySource } from './bitwarden-discovery-source.js';
