// One ticket per finding class per team (each team fixes its own keys), through the configured ticket
// sink (src/tickets/). A ticket lists the team's keys of that class with what to do; re-running the same quarter's
// audit finds the open ticket by its dedupe key instead of opening a second.
import { dedupeMarker } from '../tickets/rotation-ticket.js';
import type { TicketRef, TicketSink } from '../tickets/ticket-sink.js';
import {
  AUDIT_FINDING_ACTIONS,
  type AuditFinding,
  type AuditFindingClass,
  type AuditReport,
} from './quarterly-audit.js';

export const AUDIT_TICKET_LABEL = 'keyledger-audit';

export interface AuditTicketResult {
  opened: Array<{ team: string; class: AuditFindingClass; ref: TicketRef; findings: number }>;
  alreadyOpen: number;
}

/** The audit's quarter, `2026-Q4`: tickets are per quarter, so next quarter's findings open new ones. */
export function auditQuarter(asOf: string): string {
  const date = new Date(asOf);
  return `${date.getUTCFullYear()}-Q${Math.floor(date.getUTCMonth() / 3) + 1}`;
}

export async function openAuditTickets(
  report: AuditReport,
  sink: TicketSink,
  options: { dueInDays?: number; classes?: ReadonlySet<string> } = {},
): Promise<AuditTicketResult> {
  const groups = new Map<string, AuditFinding[]>();
  for (const finding of report.findings) {
    if (options.classes && !options.classes.has(finding.class)) continue;
    const slot = `${finding.team}\u0000${finding.class}`;
    const list = groups.get(slot) ?? [];
    list.push(finding);
    groups.set(slot, list);
  }
  const quarter = auditQuarter(report.asOf);
  const dueAt = new Date(Date.parse(report.asOf) + (options.dueInDays ?? 30) * 86_400_000);
  const result: AuditTicketResult = { opened: [], alreadyOpen: 0 };
  for (const findings of groups.values()) {
    const { team, class: cls } = findings[0]!;
    const dedupeKey = `audit:${quarter}:${cls}:${team}`;
    if (await sink.findOpen(dedupeKey)) {
      result.alreadyOpen += 1;
      continue;
    }
    const lines = findings
      .slice(0, 500)
      .map((f) => `- [ ] \`${f.keyId}\`${f.owner ? ` (${f.owner})` : ''}: ${f.detail}`);
    if (findings.length > 500) lines.push(`- ... and ${findings.length - 500} more (see the audit report)`);
    const ref = await sink.open({
      dedupeKey,
      keyId: findings[0]!.keyId,
      title: `[keyledger audit ${quarter}] ${team}: ${findings.length} ${cls}`,
      body: [
        `The quarterly audit of ${report.asOf.slice(0, 10)} found ${findings.length} key(s) of team ${team} in class **${cls}**.`,
        '',
        `What to do: ${AUDIT_FINDING_ACTIONS[cls]}.`,
        '',
        ...lines,
        '',
        dedupeMarker(dedupeKey),
      ].join('\n'),
      ownerTeam: team,
      dueAt,
      labels: [AUDIT_TICKET_LABEL, cls],
    });
    result.opened.push({ team, class: cls, ref, findings: findings.length });
  }
  return result;
}
