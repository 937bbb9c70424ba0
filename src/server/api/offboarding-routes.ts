// /offboarding: the offboarding journal read over HTTP (docs/offboarding.md) — every leaver's job, and one
// leaver's report (what was found, done, left to a person, with the tickets). Read-only: jobs start from the
// identity providers' signals (src/server/offboarding-module.ts) or `keyledger offboard`. For the security
// role (and admins): a report names people and every key they held.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NotFoundError } from '../../errors/keyledger-error.js';
import { OffboardingJobs } from '../../offboarding/offboarding-jobs.js';
import { buildOffboardingReport, type OffboardingReport } from '../../offboarding/offboarding-report.js';
import { hasRole, type Principal } from '../access.js';
import { HttpProblem } from '../problem-details.js';
import { type ApiRoute, defineRoute } from './api-route.js';
import type { ApiServices } from './api-services.js';

const JOB_STATES = ['running', 'done', 'failed'] as const;

export const offboardingListQuery = z.strictObject({ state: z.enum(JOB_STATES).optional() });
export const offboardingEmailParams = z.strictObject({ email: z.string().min(3).max(320) });

const countsSchema = z.object({
  found: z.number().int(),
  reassigned: z.number().int(),
  rotated: z.number().int(),
  disabled: z.number().int(),
  left: z.number().int(),
  failed: z.number().int(),
  sessionsRevoked: z.number().int(),
});

export const offboardingListResponse = z.object({
  items: z.array(
    z.object({
      email: z.string(),
      job_id: z.string(),
      state: z.enum(JOB_STATES),
      source: z.string().describe('the identity source whose signal opened the job (scim, okta, hr-file, manual...)'),
      since: z.string(),
      finished_at: z.string().nullable(),
      attempts: z.number().int(),
      counts: countsSchema.nullable().describe('null until the job has run once'),
    }),
  ),
});

const reportStepSchema = z.object({
  step: z.string(),
  state: z.string(),
  at: z.string(),
  keyId: z.string().optional(),
  detail: z.record(z.string(), z.unknown()),
});

export const offboardingReportResponse = z.object({
  jobId: z.string(),
  email: z.string(),
  state: z.enum(JOB_STATES),
  failure: z.string().optional(),
  signal: z.object({ id: z.string(), source: z.string(), status: z.string(), at: z.string() }),
  startedAt: z.string(),
  generatedAt: z.string(),
  found: z.array(z.record(z.string(), z.unknown())),
  done: z.array(reportStepSchema),
  left: z.array(reportStepSchema),
  failed: z.array(reportStepSchema),
  pending: z.array(reportStepSchema),
  tickets: z.array(z.object({ keyId: z.string().optional(), id: z.string(), url: z.string().optional() })),
  counts: countsSchema,
});

export function offboardingRoutes(services: ApiServices): ApiRoute[] {
  const { app, clock, denials } = services;
  const jobs = new OffboardingJobs(app.operational.db, clock);

  const requireSecurity = async (request: FastifyRequest, principal: Principal) => {
    if (hasRole(principal, 'security')) return;
    await denials.record(request, principal, 'needs the security role');
    throw new HttpProblem(403, 'E_FORBIDDEN', 'offboarding is for the security role');
  };

  return [
    defineRoute({
      method: 'GET',
      path: '/offboarding',
      operationId: 'listOffboardingJobs',
      summary: 'Every leaver’s offboarding job, oldest first (security role)',
      tag: 'offboarding',
      scope: 'people:read',
      query: offboardingListQuery,
      response: offboardingListResponse,
      handler: async ({ query, principal, request }) => {
        await requireSecurity(request, principal);
        const items = (await jobs.list(query.state ? { state: query.state } : {})).map((job) => ({
          email: job.email,
          job_id: job.jobId,
          state: job.state,
          source: job.signal.source,
          since: job.createdAt,
          finished_at: job.finishedAt ?? null,
          attempts: job.attempts,
          counts: (job.report as OffboardingReport | undefined)?.counts ?? null,
        }));
        return { body: { items } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/offboarding/:email',
      operationId: 'getOffboardingReport',
      summary: 'One leaver’s report: keys found, steps done, left to a person, tickets (security role)',
      tag: 'offboarding',
      scope: 'people:read',
      params: offboardingEmailParams,
      response: offboardingReportResponse,
      handler: async ({ params, principal, request }) => {
        await requireSecurity(request, principal);
        const job = await jobs.get(params.email);
        if (!job) throw new NotFoundError('E_OFFBOARDING_NOT_FOUND', `no offboarding job for ${params.email}`);
        // A finished job's report as it was written; a running one's as far as it got.
        const report =
          (job.report as OffboardingReport | undefined) ??
          buildOffboardingReport(job, await jobs.steps(job.jobId), {
            state: job.state,
            ...(job.failure ? { failure: job.failure } : {}),
          });
        return { body: report };
      },
    }),
  ];
}
