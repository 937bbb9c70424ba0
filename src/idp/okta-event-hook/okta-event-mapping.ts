// Which Okta System Log events mean someone is leaving or coming back, and who they are about. Okta sends
// nothing over SCIM when a user is suspended or locked: the event hook is how we hear of it (docs/offboarding.md).
// Event types: https://developer.okta.com/docs/reference/api/event-types/ (fixtures/SOURCE.md).
import type { PersonStatus } from '../../directory/identity-source.js';

export const OKTA_SOURCE = 'okta';

/** Event type -> the status it reports. Removal from the app is a deprovisioning of our integration's user. */
export const OKTA_EVENT_STATUSES: Readonly<Record<string, PersonStatus>> = {
  'user.lifecycle.deactivate': 'deprovisioned',
  'user.lifecycle.delete.initiated': 'deprovisioned',
  'application.user_membership.remove': 'deprovisioned',
  'user.lifecycle.suspend': 'suspended',
  'user.account.lock': 'suspended',
  'user.lifecycle.activate': 'active',
  'user.lifecycle.reactivate': 'active',
  'user.lifecycle.unsuspend': 'active',
  'user.account.unlock': 'active',
};

export interface OktaStatusEvent {
  /** The event's `uuid`: the deduplication key (Okta delivers at least once). */
  eventId: string;
  eventType: string;
  /** The user's login (`alternateId`), lower-cased: their work email. */
  email: string;
  /** Okta's user id. */
  externalId: string;
  status: PersonStatus;
  /** When it happened at Okta (`published`). */
  at: string;
}

/** The status event in one entry of `data.events`, or undefined for events that say nothing about a status. */
export function statusEventOf(event: unknown): OktaStatusEvent | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const record = event as Record<string, unknown>;
  const eventType = typeof record.eventType === 'string' ? record.eventType : '';
  const status = OKTA_EVENT_STATUSES[eventType];
  if (!status) return undefined;
  const outcome = record.outcome as { result?: unknown } | undefined;
  if (outcome?.result !== undefined && outcome.result !== 'SUCCESS') return undefined;
  const targets = Array.isArray(record.target) ? (record.target as Array<Record<string, unknown>>) : [];
  const user = targets.find((target) => target?.type === 'User');
  const email = typeof user?.alternateId === 'string' ? user.alternateId.trim().toLowerCase() : '';
  const uuid = typeof record.uuid === 'string' ? record.uuid : '';
  const published = typeof record.published === 'string' ? new Date(record.published) : new Date(Number.NaN);
  if (!email.includes('@') || !uuid || Number.isNaN(published.getTime())) return undefined;
  return {
    eventId: uuid,
    eventType,
    email,
    externalId: typeof user?.id === 'string' ? user.id : '',
    status,
    at: published.toISOString(),
  };
}
