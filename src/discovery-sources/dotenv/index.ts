// The dotenv discovery source, as the table (../discovery-source-table.ts) loads it.
export { dotenvDiscoverySource } from './dotenv-discovery-source.js';
