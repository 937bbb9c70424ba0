// The Vault KV metadata discovery source, as the table (../discovery-source-table.ts) loads it.
export { vaultKvDiscoverySource } from './vault-kv-discovery-source.js';
