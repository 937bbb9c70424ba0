// The GitLab CI/CD variables discovery source, as the table (../discovery-source-table.ts) loads it.
export { gitlabCiDiscoverySource } from './gitlab-ci-discovery-source.js';
