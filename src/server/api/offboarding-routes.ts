// /offboarding: the offboarding journal over HTTP (docs/offboarding.md) — every leaver's job, one leaver's report
// (what was found, done, left to a person, with the tickets), and POST, the API's `keyledger offboard EMAIL
// [--dry-run]`: a dry run answers the plan; a real one records a manual departure and has the server's offboarding
// queue run the job (offboarding-start.ts). For the security role (and admins): a report names people and every key
// they held; only an admin starts a job, since it rotates every key the person held.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NotFoundError } from '../../errors/keyledger-error.js';
import { OffboardingJobs } from '../../offboarding/offboarding-jobs.js';
import { buildOffboardingReport, type OffboardingReport } from '../../offboarding/offboarding-report.js';
import { hasRole, hasScope, type Principal } from '../access.js';
import { actorOf } from '../auth/access-denials.js';
import { offboardingRunnerFor } from '../offboarding-runner.js';
import { HttpProblem } from '../problem-details.js';
import { type ApiRoute, defineRoute } from './api-route.js';
import type { ApiServices } from './api-services.js';
import { planOffboarding, startOffboarding } from './offboarding-start.js';

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

export const startOffboardingBody = z.strictObject({
  email: z
    .string()
    .trim()
    .min(3)
    .max(320)
    .regex(/^[^@\s]+@[^@\s]+$/, 'a work email address')
    .transform((email) => email.toLowerCase()),
  dryRun: z.boolean().optional().describe('answer the plan and change nothing (security role); default false'),
});

export const offboardingPlanResponse = z.object({
  email: z.string(),
  dryRun: z.literal(true),
  keys: z.array(
    z.object({
      keyId: z.string(),
      provider: z.string(),
      team: z.string(),
      ties: z.array(z.string()),
      because: z.array(z.string()),
      otherConsumers: z.array(z.string()),
    }),
  ),
  steps: z.array(z.object({ step: z.string(), keyId: z.string().optional(), what: z.string() })),
});

export const offboardingStartedResponse = z.object({
  email: z.string(),
  dryRun: z.literal(false),
  jobId: z.string(),
  state: z.enum(JOB_STATES),
  location: z.string().describe('where the job’s report is read (GET)'),
  started: z.boolean().describe('false when the person already had a running or finished job: nothing new started'),
  replayed: z.boolean().describe('true when this is the first answer to the same Idempotency-Key, returned again'),
});

export function offboardingRoutes(services: ApiServices): ApiRoute[] {
  const { app, clock, denials } = services;
  const jobs = new OffboardingJobs(app.operational.db, clock);

  const requireSecurity = async (request: FastifyRequest, principal: Principal) => {
    if (hasRole(principal, 'security')) return;
    await denials.record(request, principal, 'needs the security role');
    throw new HttpProblem(403, 'E_FORBIDDEN', 'offboarding is for the security role');
  };

  const runnerOrUnavailable = () => {
    const runner = offboardingRunnerFor(app.operational.db);
    if (!runner) throw new HttpProblem(503, 'E_OFFBOARDING_UNAVAILABLE', 'this server runs no offboarding module');
    return runner;
  };

  return [
    defineRoute({
      method: 'POST',
      path: '/offboarding',
      operationId: 'startOffboarding',
      summary:
        'Offboard a leaver now (admin role; 202, follow the job at /offboarding/{email}; Idempotency-Key honoured), or with dryRun answer the plan (security role; 200)',
      tag: 'offboarding',
      scope: 'people:read',
      body: startOffboardingBody,
      response: offboardingStartedResponse,
      status: 202,
      otherResponses: [{ status: 200, description: 'the plan of a dry run', response: offboardingPlanResponse }],
      handler: async ({ body, principal, request }) => {
        if (body.dryRun) {
          await requireSecurity(request, principal);
          const plan = await planOffboarding({ app, clock, runner: runnerOrUnavailable() }, body.email);
          return { status: 200, body: plan };
        }
        if (!hasRole(principal, 'admin')) {
          await denials.record(request, principal, 'offboarding a person needs the admin role');
          throw new HttpProblem(403, 'E_FORBIDDEN', 'offboarding a person is for admins (a dry run is for security)');
        }
        // It rotates every key the person held: the token must be allowed to write keys too.
        if (!hasScope(principal, 'keys:write')) {
          await denials.record(request, principal, 'missing scope keys:write');
          throw new HttpProblem(403, 'E_SCOPE', 'offboarding a person needs the scope "keys:write"');
        }
        const idempotencyKey = request.headers['idempotency-key'];
        const started = await startOffboarding(
          { app, clock, runner: runnerOrUnavailable() },
          {
            email: body.email,
            actor: actorOf(principal),
            location: `${request.routeOptions.url ?? ''}/${encodeURIComponent(body.email)}`,
            ...(typeof idempotencyKey === 'string' && idempotencyKey ? { idempotencyKey } : {}),
          },
        );
        return { status: 202, location: started.location, body: started };
      },
    }),
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
