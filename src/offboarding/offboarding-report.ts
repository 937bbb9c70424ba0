// The report of one leaver's offboarding (docs/offboarding.md, "The report"): what was found and why, what was
// done (with the registry commits and rotations), what was left to a person (with the tickets opened), what failed
// and will be retried. Rendered as JSON (`offboard --json`, the job row) and Markdown (the file beside it). The
// steps hold ids, names and commit hashes only: no secret reaches a report.
import type { LeaverKey } from './leaver-keys.js';
import type { JobState, OffboardingJob, OffboardingStep } from './offboarding-jobs.js';

export interface OffboardingReportStep {
  step: string;
  state: string;
  /** When the step completed (ISO 8601). */
  at: string;
  keyId?: string;
  detail: Record<string, unknown>;
}

export interface OffboardingReport {
  jobId: string;
  email: string;
  state: JobState;
  failure?: string;
  signal: { id: string; source: string; status: string; at: string };
  startedAt: string;
  generatedAt: string;
  found: LeaverKey[];
  done: OffboardingReportStep[];
  left: OffboardingReportStep[];
  failed: OffboardingReportStep[];
  pending: OffboardingReportStep[];
  tickets: Array<{ keyId?: string; id: string; url?: string }>;
  counts: {
    found: number;
    reassigned: number;
    rotated: number;
    disabled: number;
    left: number;
    failed: number;
    sessionsRevoked: number;
  };
}

export function buildOffboardingReport(
  job: OffboardingJob,
  steps: readonly OffboardingStep[],
  outcome: { state: JobState; failure?: string },
): OffboardingReport {
  const found = ((steps.find((step) => step.step === 'found')?.detail.keys as LeaverKey[] | undefined) ?? []).slice();
  const work = steps
    .filter((step) => step.step !== 'found')
    .map((step) => ({
      step: step.step,
      state: step.state,
      at: step.updatedAt,
      ...(typeof step.detail.keyId === 'string' ? { keyId: step.detail.keyId } : {}),
      detail: step.detail,
    }));
  const done = work.filter((step) => step.state === 'done' || step.state === 'skipped');
  const count = (prefix: string) => work.filter((step) => step.step.startsWith(prefix) && step.state === 'done').length;
  const tickets = work.flatMap((step) => {
    const ticket = step.detail.ticket as { id?: string; url?: string } | undefined;
    return ticket?.id
      ? [{ ...(step.keyId ? { keyId: step.keyId } : {}), id: ticket.id, ...(ticket.url ? { url: ticket.url } : {}) }]
      : [];
  });
  const left = work.filter((step) => step.state === 'left');
  const failed = work.filter((step) => step.state === 'failed');
  return {
    jobId: job.jobId,
    email: job.email,
    state: outcome.state,
    ...(outcome.failure ? { failure: outcome.failure } : {}),
    signal: { id: job.signal.signalId, source: job.signal.source, status: job.signal.status, at: job.signal.at },
    startedAt: job.createdAt,
    generatedAt: latestOf([job.updatedAt, ...steps.map((step) => step.updatedAt)]),
    found,
    done,
    left,
    failed,
    pending: work.filter((step) => step.state === 'pending'),
    tickets,
    counts: {
      found: found.length,
      reassigned: count('reassign:'),
      rotated: count('rotate:'),
      disabled: count('disable:'),
      left: left.length,
      failed: failed.length,
      sessionsRevoked: count('sessions:'),
    },
  };
}

export function renderOffboardingMarkdown(report: OffboardingReport): string {
  const lines: string[] = [];
  lines.push(`# Offboarding: ${report.email}`, '');
  lines.push(
    `State: **${report.state}**${report.failure ? ` (${report.failure})` : ''}. Signal ${report.signal.id} from ${report.signal.source} (${report.signal.status} at ${report.signal.at}); job ${report.jobId} started ${report.startedAt}.`,
    '',
  );
  const c = report.counts;
  lines.push(
    `Found ${c.found} key(s); reassigned ${c.reassigned}, rotated ${c.rotated}, disabled ${c.disabled}; ${c.left} left to a person; ${c.failed} failed; sessions revoked at ${c.sessionsRevoked} identity provider(s).`,
    '',
  );
  lines.push('## Found', '');
  if (!report.found.length) lines.push('Nothing tied to this person.', '');
  else {
    lines.push('| key | provider | team | why |', '| --- | --- | --- | --- |');
    for (const key of report.found)
      lines.push(
        `| ${cell(key.keyId)} | ${cell(key.provider)} | ${cell(key.team)} | ${cell(key.because.join('; '))} |`,
      );
    lines.push('');
  }
  const section = (title: string, steps: OffboardingReportStep[]) => {
    lines.push(`## ${title}`, '');
    if (!steps.length) lines.push('None.', '');
    else {
      for (const step of steps) lines.push(`- \`${step.step}\` ${step.state}: ${describe(step.detail)}`);
      lines.push('');
    }
  };
  section('Done', report.done);
  section('Left to a person', report.left);
  section('Failed (retried by `keyledger offboard --resume`)', [...report.failed, ...report.pending]);
  lines.push('## Tickets', '');
  if (!report.tickets.length) lines.push('None.');
  for (const ticket of report.tickets)
    lines.push(
      `- ${ticket.keyId ? `${ticket.keyId}: ` : ''}${ticket.url ? `[${ticket.id}](${ticket.url})` : ticket.id}`,
    );
  return `${lines.join('\n')}\n`;
}

function describe(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .filter(([name]) => name !== 'keyId')
    .map(([name, value]) => `${name} ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}

/** The latest of ISO-8601 instants (they sort as strings). */
function latestOf(instants: string[]): string {
  return instants.sort().at(-1)!;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
