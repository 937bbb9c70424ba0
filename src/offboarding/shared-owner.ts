// Who takes over a leaver's keys: the team's shared owner (the `<team>-shared` account of
// docs/offboarding.md, or the person the registry config names for the team), never another individual guessed.
import type { RegistryConfig } from '../registry/registry-config.js';

export interface SharedOwnerPolicy {
  /** The owner a key of `team` passes to when `leaverEmail` leaves. */
  ownerFor(team: string, leaverEmail: string): string;
}

export function sharedOwnerPolicy(config: Pick<RegistryConfig, 'offboarding'>): SharedOwnerPolicy {
  const { shared_owner: template, team_owners: teamOwners } = config.offboarding;
  return {
    ownerFor(team, leaverEmail) {
      const named = teamOwners[team];
      if (named) return named.toLowerCase();
      const domain = leaverEmail.includes('@') ? leaverEmail.slice(leaverEmail.lastIndexOf('@') + 1) : 'localhost';
      return template.replaceAll('{team}', team).replaceAll('{domain}', domain).toLowerCase();
    },
  };
}
