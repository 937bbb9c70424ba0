// What kind of credential a key is, from what a deployment can observe — the orphaned-keys brief's categories
// (docs/offboarding.md, "Orphans"; src/offboarding/orphan-keys.ts) as far as an API tells them: a key shared
// between teams (the registry's consumers or the audit logs' callers name several teams: the drift class
// `shared-across-teams`); a person's own key (the provider holds it under a user that is a person of the directory,
// or under a user-type account such as `user:<id>`, or acts as such a user: a GitHub token's owner); otherwise a
// service key (a service user, a machine user no directory lists, a project, group, app or integration). Whether an integration was meant to be "temporary" is an intention no provider records, so it is
// not a category here: such keys are service keys.
import type { PeopleDirectory } from '../directory/people-directory.js';
import type { DriftClass } from './drift-classification.js';

export const KEY_CATEGORIES = ['shared-between-teams', 'personal-key', 'service-key'] as const;
export type KeyCategory = (typeof KEY_CATEGORIES)[number];

/** Tells the category of each key; built once per run from the people directory. */
export function keyCategorizer(
  people: PeopleDirectory | undefined,
): (key: { classes: readonly DriftClass[]; account?: string | undefined; holder?: string | undefined }) => KeyCategory {
  const personNames = new Set((people?.people() ?? []).map((person) => squashed(person.email.split('@')[0]!)));
  return (key) => {
    if (key.classes.includes('shared-across-teams')) return 'shared-between-teams';
    // The user the key acts as: its holder when the provider names one apart from the account (a GitHub token's
    // owner, listed under the organisation), else the account itself.
    const holder = key.holder ?? key.account;
    // Without a directory no holder is a person: the name is not worked out (100,000 regular expressions saved).
    if (holder && (/^user:/i.test(holder) || (personNames.size > 0 && personNames.has(holderName(holder)))))
      return 'personal-key';
    return 'service-key';
  };
}

/**
 * The person-like name an account carries: the local part of an email-shaped account (GCP's
 * `alice-smith@project.iam.gserviceaccount.com`), without a numbered suffix (a person's second IAM user
 * `alice.smith-2`, which IAM's two-keys-per-user limit makes common), separators dropped so that `alice-smith`
 * and `alice.smith` meet.
 */
function holderName(account: string): string {
  return squashed(account.split('@')[0]!.replace(/-\d+$/, ''));
}

function squashed(name: string): string {
  return name.toLowerCase().replace(/[._-]/g, '');
}
