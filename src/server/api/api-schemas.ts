// The JSON API's request and response bodies as zod schemas: the routes parse their input with them and the
// OpenAPI document (openapi-document.ts) is generated from them.
import { z } from 'zod';
import { GRANTED_ROLES, TEAM_MEMBER_ROLES, TEAM_SLUG_PATTERN } from '../../directory/team-records.js';
import { ROTATION_STATES } from '../../lifecycle/rotation/rotation-states.js';
import { KEY_STATUSES, keyEntrySchema } from '../../registry/key-entry-schema.js';
import { ROLES } from '../access.js';
import { API_TOKEN_SCOPES } from '../auth/api-tokens.js';

export const MAX_PAGE_SIZE = 500;
const limit = (fallback: number) =>
  z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(fallback).describe(`at most ${MAX_PAGE_SIZE}`);

export const keyIdParams = z.strictObject({ keyId: z.string().min(1).max(200) });

export const keyListQuery = z.strictObject({
  team: z.string().min(1).optional().describe('owner_team'),
  provider: z.string().min(1).optional().describe('scope.provider'),
  status: z.enum(KEY_STATUSES).optional(),
  owner: z.string().min(1).optional().describe('owner_individual (email)'),
  due: z
    .enum(['overdue', 'expiring'])
    .optional()
    .describe('overdue: past its rotation date; expiring: expires within `within_days`'),
  within_days: z.coerce.number().int().min(0).max(3650).default(30),
  text: z.string().min(1).max(200).optional().describe('in key_id, purpose, owner or team (case-insensitive)'),
  cursor: z.string().min(1).optional().describe('next_cursor of the previous page'),
  limit: limit(50),
});

const factsSchema = z.object({
  age_days: z.number().optional(),
  expires_in_days: z.number().optional(),
  rotation_due: z.string().optional(),
  rotation_overdue: z.boolean(),
});

export const keySummarySchema = z.object({
  key_id: z.string(),
  provider: z.string().optional(),
  owner_team: z.string().optional(),
  owner_individual: z.string().optional(),
  status: z.enum(KEY_STATUSES),
  purpose: z.string().optional(),
  expiration: z.string().optional(),
  last_rotated: z.string().optional(),
  facts: factsSchema,
});

export const keyListResponse = z.object({
  items: z.array(keySummarySchema),
  next_cursor: z.string().nullable(),
});

export const keyResponse = z.object({ file: z.string(), entry: keyEntrySchema, facts: factsSchema });

export const issueKeyBody = z.strictObject({
  provider: z.string().min(1),
  team: z.string().min(1),
  owner: z.email(),
  purpose: z.string().min(3).max(500),
  permissions: z.array(z.string().min(1)).default([]),
  account: z.string().min(1).optional(),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
  rotation_frequency_days: z.number().int().min(1).max(3650).optional(),
  tags: z.array(z.string().min(1)).optional(),
  justification: z.string().min(1).max(2000).optional(),
  key_id: z.string().min(1).max(200).optional(),
});

export const issuedKeyResponse = z.object({
  key_id: z.string(),
  provider: z.string(),
  provider_key_id: z.string(),
  store: z.string(),
  path: z.string(),
  file: z.string(),
  commit: z.string(),
  fingerprint: z.string(),
  expires_at: z.string(),
  replayed: z.boolean(),
});

export const revokeKeyBody = z.strictObject({
  reason: z.string().min(1).max(500),
  keep_secret: z.boolean().default(false),
});

export const revokedKeyResponse = z.object({
  key_id: z.string(),
  provider: z.string(),
  steps: z.array(z.string()),
  commit: z.string().optional(),
  revocation_id: z.string(),
  resumed: z.boolean(),
});

export const rotationSchema = z.object({
  rotation_id: z.string(),
  key_id: z.string(),
  provider: z.string(),
  trigger: z.string(),
  state: z.enum(ROTATION_STATES),
  attempts: z.number(),
  failure: z.string().nullable(),
  rollback_reason: z.string().nullable(),
  not_before: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const rotationListResponse = z.object({ items: z.array(rotationSchema) });

export const rotationStartedResponse = z.object({ rotation: rotationSchema, created: z.boolean() });

export const rotationListQuery = z.strictObject({
  key_id: z.string().min(1).optional(),
  state: z.enum(ROTATION_STATES).optional(),
  limit: limit(100),
});

export const rotationIdParams = z.strictObject({ rotationId: z.string().min(1).max(100) });

export const eventSchema = z.object({
  seq: z.number(),
  id: z.string(),
  at: z.string(),
  type: z.string(),
  actor: z.string(),
  key_id: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});

export const eventPageResponse = z.object({ items: z.array(eventSchema), next_cursor: z.string().nullable() });

export const rotationResponse = z.object({ rotation: rotationSchema, journal: z.array(eventSchema) });

export const eventListQuery = z.strictObject({
  type: z.string().min(1).max(64).optional(),
  key_id: z.string().min(1).optional(),
  actor: z.string().min(1).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().regex(/^\d+$/).optional().describe('next_cursor of the previous page (newest first)'),
  limit: limit(100),
});

export const historyQuery = z.strictObject({
  cursor: z.string().regex(/^\d+$/).optional(),
  limit: limit(100),
});

export const personSchema = z.object({
  email: z.string(),
  name: z.string().optional(),
  team: z.string().optional(),
  status: z.string(),
  left_at: z.string().optional(),
});

export const peopleQuery = z.strictObject({
  team: z.string().min(1).optional(),
  status: z.enum(['active', 'left', 'suspended']).optional(),
});

export const peopleResponse = z.object({ items: z.array(personSchema) });

const teamSlug = z
  .string()
  .regex(TEAM_SLUG_PATTERN, "letters, digits, '.', '_' or '-', at most 100")
  .describe('the name registry entries use in owner_team');

export const teamSummarySchema = z.object({
  team: z.string(),
  display_name: z.string(),
  /** False for a team the registry or the directory names that has no record yet (an admin may adopt it). */
  recorded: z.boolean().describe('false: known from the registry or the directory, not yet a record (adopt it)'),
  description: z.string().optional(),
  contact: z.string().optional(),
  members: z.number().describe('people in the record'),
  people: z.number().describe('people the directory puts in the team'),
  keys: z.number().describe('registry entries naming the team'),
  active_keys: z.number(),
});

export const teamsResponse = z.object({ items: z.array(teamSummarySchema) });

export const teamParams = z.strictObject({ team: teamSlug });
export const teamMemberParams = z.strictObject({ team: teamSlug, email: z.email() });

const teamMemberRole = z.enum(TEAM_MEMBER_ROLES);

export const createTeamBody = z.strictObject({
  team: teamSlug,
  display_name: z.string().trim().min(1).max(200).optional().describe('default: the slug'),
  description: z.string().trim().max(2000).optional(),
  contact: z.string().trim().min(1).max(320).optional().describe('the shared owner: an on-call alias, an email'),
  members: z
    .array(z.strictObject({ email: z.email(), role: teamMemberRole.default('member') }))
    .max(1000)
    .optional(),
});

export const updateTeamBody = z
  .strictObject({
    display_name: z.string().trim().min(1).max(200).optional(),
    description: z.string().trim().max(2000).nullable().optional().describe('null clears it'),
    contact: z.string().trim().min(1).max(320).nullable().optional().describe('null clears it'),
  })
  .refine((body) => Object.keys(body).length > 0, 'name at least one of display_name, description, contact');

export const teamMemberBody = z.strictObject({ role: teamMemberRole.default('member') });

export const teamResponse = z.object({
  team: z.string(),
  display_name: z.string(),
  recorded: z.boolean(),
  description: z.string().optional(),
  contact: z.string().optional(),
  members: z.array(z.object({ email: z.string(), role: teamMemberRole, added_at: z.string(), added_by: z.string() })),
  people: z.number(),
  keys: z.object({ total: z.number(), active: z.number(), rotation_overdue: z.number(), revoked: z.number() }),
  created_at: z.string().optional(),
  created_by: z.string().optional(),
  updated_at: z.string().optional(),
  updated_by: z.string().optional(),
  version: z.number().optional(),
});

export const teamDeletedResponse = z.object({ team: z.string(), deleted: z.literal(true) });

export const teamMemberRemovedResponse = z.object({ team: z.string(), email: z.string(), removed: z.literal(true) });

const roleGrantSchema = z.object({
  email: z.string(),
  role: z.enum(GRANTED_ROLES),
  granted_at: z.string(),
  granted_by: z.string(),
});

export const roleGrantsResponse = z.object({ items: z.array(roleGrantSchema) });

export const roleGrantParams = z.strictObject({ role: z.enum(GRANTED_ROLES), email: z.email() });

export const roleGrantResponse = roleGrantSchema.extend({ created: z.boolean() });

export const roleRevokedResponse = z.object({
  email: z.string(),
  role: z.enum(GRANTED_ROLES),
  revoked: z.literal(true),
});

export const auditReportSummarySchema = z.object({
  id: z.string(),
  as_of: z.string(),
  generated_at: z.string(),
  summary: z.record(z.string(), z.unknown()),
});

export const auditReportListResponse = z.object({ items: z.array(auditReportSummarySchema) });

export const auditReportResponse = auditReportSummarySchema.extend({
  findings: z.array(z.object({ class: z.string(), key_id: z.string() })),
});

export const auditReportParams = z.strictObject({ reportId: z.string().min(1).max(100) });

export const findingsQuery = z.strictObject({
  key_id: z.string().min(1).optional(),
  cursor: z.string().regex(/^\d+$/).optional(),
  limit: limit(100),
});

export const createTokenBody = z.strictObject({
  team: z.string().min(1),
  role: z.enum(ROLES),
  scopes: z.array(z.enum(API_TOKEN_SCOPES)).min(1),
  expires_in_days: z.number().int().min(1).max(3650).default(90),
  owner: z.email(),
});

export const createdTokenResponse = z.object({
  key_id: z.string(),
  token: z.string().describe('shown once'),
  expires_at: z.string(),
  team: z.string(),
  role: z.enum(ROLES),
  scopes: z.array(z.string()),
});

export const tokenListResponse = z.object({
  items: z.array(
    z.object({
      key_id: z.string(),
      team: z.string(),
      role: z.string(),
      scopes: z.array(z.string()),
      created_at: z.string(),
      created_by: z.string(),
    }),
  ),
});
