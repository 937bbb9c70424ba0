// The AWS IAM credential report discovery source, as the table (../discovery-source-table.ts) loads it.
export { awsCredentialReportDiscoverySource } from './aws-credential-report-discovery-source.js';
