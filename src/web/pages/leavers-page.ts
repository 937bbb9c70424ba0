// Leavers and their offboarding progress (`/leavers`, and one leaver's report at `/leavers/:email`), from
// leavers-data.ts only. Every role may open them: security and admin see every leaver, a member their teams'
// leavers and only their teams' keys (leavers-data.ts applies src/server/access.ts). While a job runs, the page's
// `[data-refresh]` region is refetched by the dashboard script (web-assets.ts) every few seconds, announced politely;
// without the script the "Refresh" link does the same. No `<meta http-equiv=refresh>`: axe's meta-refresh rule
// refuses a timed reload the reader cannot stop.
import type { FastifyInstance } from 'fastify';
import type { OffboardingReport, OffboardingReportStep } from '../../offboarding/offboarding-report.js';
import { html, type SafeHtml } from '../html.js';
import {
  keyIdOfStep,
  type LeaverProgress,
  type LeaversSources,
  leaverProgress,
  leaversWithProgress,
} from '../leavers-data.js';
import { sendPage, type WebContext } from '../web-context.js';

/** How often a page with a running job refreshes its progress region (seconds). */
export const LEAVERS_REFRESH_SECONDS = 3;

export function registerLeaversPage(instance: FastifyInstance, context: WebContext): void {
  const sources = async (): Promise<LeaversSources> => ({
    app: context.server.app,
    clock: context.server.clock,
    snapshot: await context.snapshot.get(),
    journal: context.rotation().journal,
  });

  instance.get('/leavers', async (request, reply) => {
    const leavers = await leaversWithProgress(await sources(), request.principal!);
    const running = leavers.some((leaver) => leaver.state === 'running');
    const body = html`
      <div id="leavers-progress" ${refreshAttributes(running)}>
      <p role="status">${leavers.length} people have left; ${leavers.filter((l) => l.state === 'running').length} offboarding now, ${leavers.filter((l) => l.state === 'failed').length} failed, ${leavers.filter((l) => l.state === 'pending').length} not started; ${leavers.filter((l) => l.liveKeys.length > 0).length} still own live keys.${running ? html` <a href="/leavers">Refresh</a>` : ''}</p>
      <div class="table-wrap"><table class="responsive"><caption class="skip">Leavers and their offboarding jobs</caption><thead><tr><th scope="col">Person</th><th scope="col">Team</th><th scope="col">Left</th><th scope="col">Offboarding</th><th scope="col">Found</th><th scope="col">Reassigned</th><th scope="col">Rotated</th><th scope="col">Disabled</th><th scope="col">Left to a person</th><th scope="col">Failed</th><th scope="col">Sessions revoked</th><th scope="col">Live keys</th><th scope="col">Since</th><th scope="col">Finished</th></tr></thead><tbody>${leavers.map(
        (leaver) => {
          const c = leaver.report?.counts;
          const n = (value: number | undefined) => (value === undefined ? '-' : String(value));
          return html`<tr class="leaver" data-email="${leaver.email}">
            <td data-label="Person">${leaver.name ? `${leaver.name} ` : ''}<a href="/leavers/${encodeURIComponent(leaver.email)}">${leaver.email}</a></td>
            <td data-label="Team">${leaver.team ?? '-'}</td><td data-label="Left">${leaver.leftAt ?? '-'}</td>
            <td data-label="Offboarding"><span class="job-state flag${leaver.state === 'failed' ? ' bad' : ''}">${leaver.state}</span></td>
            <td data-label="Found">${n(c?.found)}</td><td data-label="Reassigned">${n(c?.reassigned)}</td><td data-label="Rotated">${n(c?.rotated)}</td><td data-label="Disabled">${n(c?.disabled)}</td>
            <td data-label="Left to a person">${n(c?.left)}</td><td data-label="Failed">${n(c?.failed)}</td><td data-label="Sessions revoked">${n(c?.sessionsRevoked)}</td>
            <td data-label="Live keys">${leaver.liveKeys.length}${leaver.rotating ? ` (${leaver.rotating} rotating)` : ''}</td>
            <td data-label="Since">${leaver.since ?? '-'}</td><td data-label="Finished">${leaver.finishedAt ?? '-'}</td></tr>`;
        },
      )}</tbody></table></div></div>`;
    return sendPage(request, reply, { title: 'Leavers', section: 'leavers', body });
  });

  instance.get<{ Params: { email: string } }>('/leavers/:email', async (request, reply) => {
    const leaver = await leaverProgress(await sources(), request.principal!, request.params.email);
    if (!leaver)
      return sendPage(
        request,
        reply,
        {
          title: 'No such leaver',
          section: 'leavers',
          body: html`<p class="error">No leaver you may see goes by that email.</p><p><a href="/leavers">All leavers</a></p>`,
        },
        404,
      );
    return sendPage(request, reply, {
      title: `Offboarding: ${leaver.email}`,
      section: 'leavers',
      body: html`<div id="leaver-progress" ${refreshAttributes(leaver.state === 'running')}>${leaverBody(leaver)}</div>`,
    });
  });
}

function refreshAttributes(running: boolean): SafeHtml {
  return running ? html`data-refresh="${LEAVERS_REFRESH_SECONDS}" aria-busy="false"` : html``;
}

function leaverBody(leaver: LeaverProgress): SafeHtml {
  const report = leaver.report;
  const summary = html`<dl class="entry">
    <dt>Name</dt><dd>${leaver.name ?? '-'}</dd><dt>Team</dt><dd>${leaver.team ?? '-'}</dd><dt>Left</dt><dd>${leaver.leftAt ?? '-'}</dd>
    <dt>Offboarding</dt><dd><span class="job-state flag${leaver.state === 'failed' ? ' bad' : ''}" role="status">${leaver.state}</span>${leaver.state === 'running' ? html` <a href="/leavers/${encodeURIComponent(leaver.email)}">Refresh</a>` : ''}</dd>
    ${report ? html`<dt>Signal</dt><dd>${report.signal.source} ${report.signal.status} at ${report.signal.at}</dd><dt>Since</dt><dd>${report.startedAt}</dd>` : ''}
    <dt>Finished</dt><dd>${leaver.finishedAt ?? '-'}</dd><dt>Runs</dt><dd>${leaver.attempts}</dd>
    ${report?.failure ? html`<dt>Failure</dt><dd class="error">${report.failure}</dd>` : ''}
    <dt>Live keys still theirs</dt><dd>${leaver.liveKeys.length ? leaver.liveKeys.map((entry) => html`<a href="/keys/${encodeURIComponent(entry.key_id)}"><code>${entry.key_id}</code></a> `) : 'none'}</dd>
  </dl>`;
  if (!report)
    return html`${summary}<p>No offboarding job has started for this person yet: it starts when the identity provider deprovisions them (SCIM or an Okta hook) or when <code>keyledger offboard</code> runs.</p>`;
  return html`${summary}${countsList(report)}
    <h2>Found</h2>${
      report.found.length
        ? html`<div class="table-wrap"><table class="responsive found"><caption class="skip">Keys found for this person</caption><thead><tr><th scope="col">Key</th><th scope="col">Provider</th><th scope="col">Team</th><th scope="col">Why</th></tr></thead><tbody>${report.found.map(
            (key) =>
              html`<tr><td data-label="Key"><a href="/keys/${encodeURIComponent(key.keyId)}"><code>${key.keyId}</code></a></td><td data-label="Provider">${key.provider}</td><td data-label="Team">${key.team}</td><td data-label="Why">${key.because.join('; ')}</td></tr>`,
          )}</tbody></table></div>`
        : html`<p>Nothing tied to this person.</p>`
    }
    ${stepsTable('Done', 'steps-done', report.done)}
    ${stepsTable('Left to a person', 'steps-left', report.left)}
    <h2>Tickets</h2>${report.tickets.length ? html`<ul>${report.tickets.map((ticket) => html`<li>${ticket.keyId ? html`<code>${ticket.keyId}</code>: ` : ''}${ticket.url && /^https?:\/\//.test(ticket.url) ? html`<a href="${ticket.url}">${ticket.id}</a>` : ticket.id}</li>`)}</ul>` : html`<p>None.</p>`}
    ${stepsTable('Failed', 'steps-failed', report.failed)}
    ${stepsTable('Still to do', 'steps-pending', report.pending)}`;
}

function countsList(report: OffboardingReport): SafeHtml {
  const c = report.counts;
  const items: Array<[string, number]> = [
    ['found', c.found],
    ['reassigned', c.reassigned],
    ['rotated', c.rotated],
    ['disabled', c.disabled],
    ['left to a person', c.left],
    ['failed', c.failed],
    ['sessions revoked', c.sessionsRevoked],
  ];
  return html`<ul class="cards counts">${items.map(([label, value]) => html`<li data-count="${label}"><strong>${value}</strong> ${label}</li>`)}</ul>`;
}

function stepsTable(title: string, className: string, steps: OffboardingReportStep[]): SafeHtml {
  return html`<h2>${title}</h2>${
    steps.length
      ? html`<div class="table-wrap"><table class="responsive ${className}"><caption class="skip">${title}</caption><thead><tr><th scope="col">Step</th><th scope="col">Key</th><th scope="col">State</th><th scope="col">At</th><th scope="col">Detail</th></tr></thead><tbody>${steps.map(
          (step) => {
            const keyId = step.keyId ?? keyIdOfStep(step.step);
            return html`<tr data-step="${step.step}"><td data-label="Step"><code>${step.step}</code></td><td data-label="Key">${keyId ? html`<a href="/keys/${encodeURIComponent(keyId)}"><code>${keyId}</code></a>` : '-'}</td><td data-label="State">${step.state}</td><td data-label="At">${step.at}</td><td data-label="Detail">${describe(step.detail)}</td></tr>`;
          },
        )}</tbody></table></div>`
      : html`<p>None.</p>`
  }`;
}

/** A step's detail in words: ids, names and commit hashes only (the workflow keeps no secret in a step). */
function describe(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .filter(([name]) => name !== 'keyId')
    .map(([name, value]) => `${name} ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}
