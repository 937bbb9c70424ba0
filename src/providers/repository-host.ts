// A capability some providers have besides keys: they host git repositories. An organisation scan
// (scan/org/) lists an organisation's or group's repositories through it and clones each with the credentials it
// gives, never knowing which provider it talks to (providers/repository-host-table.ts builds it by name).
import type { SecretValue } from '../secrets/secret-value.js';

export interface HostedRepository {
  /** The repository's full path on its host: `acme/api`, `acme/backend/api`. */
  name: string;
  /** The HTTPS clone URL, without credentials. */
  cloneUrl: string;
}

/** HTTP Basic credentials git sends to the host: the token as password, under the user name the host expects. */
export interface GitHttpCredentials {
  username: string;
  password: SecretValue;
}

export interface RepositoryHost {
  /** Every repository of `owner` (an organisation, a group with its subgroups), page after page. */
  listRepositories(owner: string): AsyncIterable<HostedRepository>;
  /** The credentials to clone with (the adapter's configured token), or undefined without one. */
  gitCredentials(): GitHttpCredentials | undefined;
  close?(): Promise<void>;
}
