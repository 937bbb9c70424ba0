// The Kubernetes discovery source, as the table (../discovery-source-table.ts) loads it.
export { kubernetesDiscoverySource } from './kubernetes-discovery-source.js';
