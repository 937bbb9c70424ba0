// The schema of a gitleaks-compatible scanner config file (`.gitleaks.toml`, `.keyledger.toml`), written once
// with zod. Field names are gitleaks' (camelCase as in its docs); unknown fields are kept and ignored so that a
// config written for a newer gitleaks still loads. keyledger adds `validate`, `provider`, `span` and `verify` (a
// declarative live check, src/scan/verify/) to a rule.
import { z } from 'zod';
import { CHECKSUM_VALIDATORS } from '../../runtime/base62-crc32.js';

const stringList = z.array(z.string());

export const allowlistTomlSchema = z.looseObject({
  description: z.string().optional(),
  condition: z
    .string()
    .refine((value) => ['', 'AND', '&&', 'OR', '||'].includes(value.toUpperCase()), {
      message: "expected 'AND' or 'OR'",
    })
    .optional(),
  commits: stringList.optional(),
  paths: stringList.optional(),
  regexes: stringList.optional(),
  regexTarget: z.enum(['secret', 'match', 'line']).optional(),
  stopwords: stringList.optional(),
});

export const globalAllowlistTomlSchema = allowlistTomlSchema.extend({
  /** Rules this allowlist applies to; without it, it applies to every rule. */
  targetRules: stringList.optional(),
});

const verifyConditionTomlSchema = z.object({
  status: z.array(z.number().int().min(100).max(599)).min(1),
  json: z.object({ field: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean()]) }).optional(),
});

/** `[rules.verify]`: how to ask the issuer whether a found secret works (rules/rule-definition.ts VerifyDefinition). */
export const verifyTomlSchema = z.object({
  method: z.enum(['GET', 'POST']).default('GET'),
  url: z.string(),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  basicUser: z.string().optional(),
  verified: verifyConditionTomlSchema,
  invalid: verifyConditionTomlSchema,
});

export const ruleTomlSchema = z.looseObject({
  /** Required, but checked by the loader: gitleaks 8.28 leaves it unchecked in a config that extends another. */
  id: z.string().default(''),
  description: z.string().optional(),
  regex: z.string().optional(),
  secretGroup: z.number().int().min(0).optional(),
  entropy: z.number().min(0).optional(),
  keywords: stringList.optional(),
  path: z.string().optional(),
  tags: stringList.optional(),
  /** Deprecated gitleaks form of one rule allowlist, still accepted as gitleaks does. */
  allowlist: allowlistTomlSchema.optional(),
  allowlists: z.array(allowlistTomlSchema).optional(),
  /** gitleaks 8.28 composite rules: other rules that must match near this one (ids checked at load). */
  required: z
    .array(
      z.looseObject({
        id: z.string(),
        withinLines: z.number().int().optional(),
        withinColumns: z.number().int().optional(),
      }),
    )
    .optional(),
  validate: z.enum(Object.keys(CHECKSUM_VALIDATORS) as [keyof typeof CHECKSUM_VALIDATORS]).optional(),
  provider: z.string().optional(),
  span: z.number().int().positive().optional(),
  verify: verifyTomlSchema.optional(),
});

export const scanConfigTomlSchema = z.looseObject({
  title: z.string().optional(),
  description: z.string().optional(),
  minVersion: z.string().optional(),
  extend: z
    .looseObject({
      useDefault: z.boolean().optional(),
      path: z.string().optional(),
      disabledRules: stringList.optional(),
    })
    .optional(),
  rules: z.array(ruleTomlSchema).optional(),
  /** Deprecated gitleaks form of one global allowlist. */
  allowlist: globalAllowlistTomlSchema.optional(),
  allowlists: z.array(globalAllowlistTomlSchema).optional(),
});

export type ScanConfigToml = z.infer<typeof scanConfigTomlSchema>;
export type AllowlistToml = z.infer<typeof allowlistTomlSchema>;
export type VerifyToml = z.infer<typeof verifyTomlSchema>;
