// `keyledger jobs`: the fleet's durable job queue (src/jobs/, docs/scale-out.md) as it stands in the operational
// store — every kind (rotations, offboarding departures, discovery, audit-log ingest, ticket sync), filtered by kind
// and state, with who holds each running job and until when; `keyledger jobs enqueue KIND` adds a discovery run, an
// audit-log ingest or a ticket sync now, for whichever replica's worker claims it first.

import { openOperationalStore } from '../../db/operational-store.js';
import { UsageError } from '../../errors/keyledger-error.js';
import { JobQueue, type JobRow, type JobState } from '../../jobs/job-queue.js';
import { printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, operationalStoreFor, type SharedOptions } from '../common-options.js';
import { parsePositiveInt } from '../option-parsers.js';
import { renderTable } from '../render/table.js';

const JOB_STATES: readonly JobState[] = ['queued', 'running', 'done', 'failed'];
const DEFAULT_LIMIT = 100;

interface JobsOptions extends SharedOptions {
  kind?: string;
  state?: string[];
  limit: number;
}

export const registerJobsCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('jobs'), { json: 'print the jobs (or the job added) as JSON' })
    .description(
      'list the job queue the replicas share (newest first; --kind, --state); `jobs enqueue KIND` adds discovery.run, audit-log.ingest or tickets.sync now',
    )
    .argument('[action]', '`enqueue` to add a job instead of listing')
    .argument('[kind]', 'with enqueue: discovery.run, audit-log.ingest or tickets.sync')
    .option('--kind <kind>', 'only jobs of this kind (e.g. rotation.rotate, offboarding.depart)')
    .option(
      '--state <state>',
      `only jobs in this state (${JOB_STATES.join(', ')}); repeat for several`,
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--limit <n>', `at most this many (default ${DEFAULT_LIMIT})`, parsePositiveInt, DEFAULT_LIMIT)
    .action(async (action: string | undefined, kind: string | undefined, options: JobsOptions) => {
      if (action !== undefined && action !== 'enqueue')
        throw new UsageError(`unknown jobs action "${action}": list with no action, or \`jobs enqueue KIND\``);
      const states = options.state ?? [];
      const unknown = states.filter((state) => !JOB_STATES.includes(state as JobState));
      if (unknown.length > 0)
        throw new UsageError(`unknown --state ${unknown.join(', ')}: expected ${JOB_STATES.join(', ')}`);
      if (action === 'enqueue') {
        // Loaded only here: the kinds' module pulls in discovery and ingest.
        const { backgroundJob, ENQUEUEABLE_JOB_KINDS } = await import('../../app/background-job-kinds.js');
        const known = ENQUEUEABLE_JOB_KINDS as readonly string[];
        if (!kind || !known.includes(kind))
          throw new UsageError(`jobs enqueue needs a kind: ${known.join(', ')} (got ${kind ?? 'none'})`);
        const store = await openOperationalStore(await operationalStoreFor(context, options, { mustExist: true }));
        try {
          const added = await new JobQueue(store.db, context.clock).enqueue(
            backgroundJob(kind as (typeof ENQUEUEABLE_JOB_KINDS)[number]),
          );
          const answer = added
            ? { added: true, job: describe(added) }
            : { added: false, reason: `a ${kind} job is already queued or running` };
          if (options.json) printJson(context, answer);
          else
            context.stdout.write(
              added
                ? `queued ${kind} as job ${added.job_id}: the next replica worker to poll runs it (keyledger jobs --kind ${kind})\n`
                : `${answer.reason}: nothing added\n`,
            );
        } finally {
          await store.close();
        }
        return;
      }
      if (kind !== undefined) throw new UsageError('a kind goes with `jobs enqueue`; to filter the list use --kind');
      const store = await openOperationalStore(await operationalStoreFor(context, options, { mustExist: true }));
      try {
        const queue = new JobQueue(store.db, context.clock);
        const jobs = await queue.list({
          ...(options.kind ? { kind: options.kind } : {}),
          ...(states.length ? { states: states as JobState[] } : {}),
          newestFirst: true,
          limit: options.limit,
        });
        if (options.json) {
          printJson(context, { jobs: jobs.map(describe), counts: await queue.counts() });
          return;
        }
        if (jobs.length === 0) {
          context.stdout.write('no jobs\n');
          return;
        }
        context.stdout.write(
          renderTable(
            ['JOB', 'KIND', 'STATE', 'TRIES', 'RUN AT', 'HELD BY (UNTIL)', 'OUTCOME'],
            jobs.map((job) => [
              job.job_id.slice(0, 8),
              job.kind,
              job.state,
              `${Number(job.attempts)}/${Number(job.max_attempts)}`,
              job.run_at,
              job.lease_owner ? `${job.lease_owner} (${job.lease_expires_at})` : '',
              (job.failure ?? job.result ?? '').slice(0, 60),
            ]),
          ),
        );
      } finally {
        await store.close();
      }
    });
};

/** A job as the JSON output shows it: payload and result parsed (ids and names; never key material). */
function describe(job: JobRow) {
  return {
    jobId: job.job_id,
    kind: job.kind,
    state: job.state,
    attempts: Number(job.attempts),
    maxAttempts: Number(job.max_attempts),
    runAt: job.run_at,
    dedupeKey: job.dedupe_key,
    leaseOwner: job.lease_owner,
    leaseExpiresAt: job.lease_expires_at,
    payload: JSON.parse(job.payload) as unknown,
    result: job.result === null ? null : (JSON.parse(job.result) as unknown),
    failure: job.failure,
    createdAt: job.created_at,
    finishedAt: job.finished_at,
  };
}
