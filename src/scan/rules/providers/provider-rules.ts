// Every provider rule beyond the original built-in set, by family. Each family file holds its rules with the
// true- and false-positive cases they own.
import type { BuiltinRule } from '../rule-builders.js';
import { AI_RULES } from './ai-rules.js';
import { CLOUD_RULES } from './cloud-rules.js';
import { DATABASE_RULES } from './database-rules.js';
import { IDENTITY_RULES } from './identity-rules.js';
import { MESSAGING_RULES } from './messaging-rules.js';
import { OBSERVABILITY_RULES } from './observability-rules.js';
import { PACKAGE_REGISTRY_RULES } from './package-registry-rules.js';
import { PAYMENT_RULES } from './payment-rules.js';
import { SAAS_RULES } from './saas-rules.js';
import { SOURCE_CONTROL_RULES } from './source-control-rules.js';

export const PROVIDER_RULES: BuiltinRule[] = [
  ...CLOUD_RULES,
  ...SOURCE_CONTROL_RULES,
  ...PACKAGE_REGISTRY_RULES,
  ...AI_RULES,
  ...PAYMENT_RULES,
  ...MESSAGING_RULES,
  ...OBSERVABILITY_RULES,
  ...SAAS_RULES,
  ...IDENTITY_RULES,
  ...DATABASE_RULES,
];
