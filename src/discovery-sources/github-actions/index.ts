// The GitHub Actions discovery source, as the table (../discovery-source-table.ts) loads it.
export { githubActionsDiscoverySource } from './github-actions-discovery-source.js';
