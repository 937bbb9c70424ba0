// Who takes over a leaver's keys: the team's shared owner (the `<team>-shared` account of
// docs/offboarding.md, or the person the registry config names for the team), never another individual guessed.
import type { RegistryConfig } from '../registry/registry-config.js';

export interface SharedOwnerPolicy {
  /** The owner a key of `team` passes to when `leaverEmail` leaves. */
  ownerFor(team: string, leaverEmail: string): string;
  /** True for an owner this policy hands keys to (a team's shared account): not a person of the directory. */
  isShared(email: string): boolean;
}

export function sharedOwnerPolicy(config: Pick<RegistryConfig, 'offboarding'>): SharedOwnerPolicy {
  const { shared_owner: template, team_owners: teamOwners } = config.offboarding;
  const named = new Set(Object.values(teamOwners).map((owner) => owner.toLowerCase()));
  // The template with its placeholders as "any name": `{team}-shared@{domain}` matches `payments-shared@acme.io`.
  const pattern = new RegExp(
    `^${template
      .toLowerCase()
      .split(/(\{team\}|\{domain\})/)
      .map((part) => (part === '{team}' || part === '{domain}' ? '[^@]+' : part.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&')))
      .join('')}$`,
  );
  return {
    ownerFor(team, leaverEmail) {
      const named = teamOwners[team];
      if (named) return named.toLowerCase();
      const domain = leaverEmail.includes('@') ? leaverEmail.slice(leaverEmail.lastIndexOf('@') + 1) : 'localhost';
      return template.replaceAll('{team}', team).replaceAll('{domain}', domain).toLowerCase();
    },
    isShared: (email) => named.has(email.toLowerCase()) || pattern.test(email.toLowerCase()),
  };
}
