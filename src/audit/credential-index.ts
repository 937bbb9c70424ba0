// Which registry entry a credential named in an audit log belongs to, and in what standing: the entry's current
// key, a key it rotated out (and since when), or a key of a revoked entry (and since when). Built once per ingest
// from the registry, the rotation journal and the event log; the enrichment asks it once per record.
import type { KeyEntry } from '../registry/key-entry-schema.js';
import { parseSource, type SourceMatcher, sourceMatcher } from './expected-sources.js';

export type CredentialStanding = 'current' | 'rotated-out' | 'revoked';

export interface IndexedCredential {
  keyId: string;
  standing: CredentialStanding;
  ownerTeam?: string;
  owner?: string;
  /** When the key stopped being valid (rotated out or revoked); undefined when the registry says revoked but not when. */
  endedAt?: string;
  /** The entry's declared `expected_sources`, compiled; undefined when it declares none. */
  expected?: SourceMatcher;
}

export interface RotatedOutKey {
  keyId: string;
  provider: string;
  providerKeyId: string;
  /** When the rotation that replaced it revoked it. */
  endedAt: string;
}

/** What the index reads of a registry entry. */
export type CredentialIndexEntry = Pick<
  KeyEntry,
  'key_id' | 'status' | 'owner_team' | 'owner_individual' | 'provider_key_id' | 'expected_sources'
> & { scope?: { provider: string } | undefined };

/** The fields of an entry the index reads, and no more: what is sent to the enrichment worker threads. */
export function credentialIndexEntryOf(entry: KeyEntry): CredentialIndexEntry {
  return {
    key_id: entry.key_id,
    status: entry.status,
    ...(entry.owner_team !== undefined ? { owner_team: entry.owner_team } : {}),
    ...(entry.owner_individual !== undefined ? { owner_individual: entry.owner_individual } : {}),
    ...(entry.provider_key_id !== undefined ? { provider_key_id: entry.provider_key_id } : {}),
    ...(entry.expected_sources !== undefined ? { expected_sources: entry.expected_sources } : {}),
    ...(entry.scope ? { scope: { provider: entry.scope.provider } } : {}),
  };
}

export interface CredentialIndexInput {
  entries: readonly CredentialIndexEntry[];
  /** Old keys of finished rotations (rotation journal). */
  rotatedOut?: readonly RotatedOutKey[];
  /** When each revoked entry was revoked (the event log's `revoked` events), by key_id. */
  revokedAt?: ReadonlyMap<string, string>;
  /** GitHub-style SHA-256 hashes of the current tokens (base64), by key_id, where the caller could compute them. */
  hashedTokens?: ReadonlyMap<string, string>;
  /**
   * The token-digest index (token-digests.ts): each stored token's SHA-256 with its key and, when known, its
   * provider id, which says whether it is the entry's current token or one a rotation replaced.
   */
  tokenDigests?: readonly TokenDigest[];
}

export interface TokenDigest {
  digest: string;
  provider: string;
  key_id: string;
  provider_key_id: string | null;
}

/** GUIDs (Entra key ids, Datadog ids) compare case-insensitively; other ids exactly. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// The length test first: this runs once per audit-log record, and only a 36-character id can be a GUID.
const normaliseId = (id: string) => (id.length === 36 && GUID.test(id) ? id.toLowerCase() : id);

/** Sources whose team is remembered; cleared whole when full. */
const TEAM_OF_SOURCE_MEMO = 65_536;

export class CredentialIndex {
  /**
   * Provider -> normalised id -> credential. Two look-ups, not one keyed by `provider + id`: the enrichment asks once
   * per record, and building that key for each was a tenth of the enrichment thread's time.
   */
  readonly #byId = new Map<string, Map<string, IndexedCredential>>();
  #size = 0;
  readonly #byHash = new Map<string, IndexedCredential>();
  /** Each team's declared sources (all its entries' expected_sources together), for attributing a source. */
  readonly #teamSources: Array<{ team: string; matcher: SourceMatcher }> = [];
  readonly #teamOfSource = new Map<string, string | null>();

  constructor(input: CredentialIndexInput) {
    const byKeyId = new Map<string, CredentialIndexEntry>();
    /** Each entry as its own current key would be indexed, whether or not it records a provider id. */
    const own = new Map<string, IndexedCredential>();
    // One matcher per team, not per entry: attributing a source costs one check per team, whatever the entry count.
    const specsByTeam = new Map<string, string[]>();
    // Entries often declare the same sources (a team's ranges): one compiled matcher per distinct list, not one
    // BlockList per entry, which was a second of building on 100,000 entries.
    const matchers = new Map<string, SourceMatcher>();
    const matcherOf = (specs: readonly string[]) => {
      const text = specs.join('\n');
      let matcher = matchers.get(text);
      if (!matcher) {
        matcher = sourceMatcher(specs);
        matchers.set(text, matcher);
      }
      return matcher;
    };
    for (const entry of input.entries) {
      byKeyId.set(entry.key_id, entry);
      const expected = entry.expected_sources?.length ? matcherOf(entry.expected_sources) : undefined;
      if (entry.expected_sources?.length && entry.owner_team) {
        const specs = specsByTeam.get(entry.owner_team) ?? [];
        specs.push(...entry.expected_sources);
        specsByTeam.set(entry.owner_team, specs);
      }
      const revoked = entry.status === 'revoked' || entry.status === 'retired';
      const endedAt = revoked ? input.revokedAt?.get(entry.key_id) : undefined;
      const indexed: IndexedCredential = {
        keyId: entry.key_id,
        standing: revoked ? 'revoked' : 'current',
        ...(entry.owner_team ? { ownerTeam: entry.owner_team } : {}),
        ...(entry.owner_individual ? { owner: entry.owner_individual } : {}),
        ...(endedAt ? { endedAt } : {}),
        ...(expected ? { expected } : {}),
      };
      own.set(entry.key_id, indexed);
      const provider = entry.scope?.provider;
      if (!provider || entry.provider_key_id === undefined) continue;
      this.#setById(provider, String(entry.provider_key_id), indexed);
      const hashed = input.hashedTokens?.get(entry.key_id);
      if (hashed) this.#byHash.set(hashed, indexed);
    }
    for (const [team, specs] of specsByTeam)
      this.#teamSources.push({ team, matcher: sourceMatcher([...new Set(specs)]) });
    for (const old of input.rotatedOut ?? []) {
      // A current key wins: ids are not reused, but a replayed journal might be.
      if (this.#getById(old.provider, old.providerKeyId)) continue;
      const entry = byKeyId.get(old.keyId);
      this.#setById(old.provider, old.providerKeyId, {
        keyId: old.keyId,
        standing: 'rotated-out',
        endedAt: old.endedAt,
        ...(entry?.owner_team ? { ownerTeam: entry.owner_team } : {}),
        ...(entry?.owner_individual ? { owner: entry.owner_individual } : {}),
      });
    }
    for (const token of input.tokenDigests ?? []) {
      if (this.#byHash.has(token.digest)) continue;
      const found = this.#standingOfToken(token, own.get(token.key_id), byKeyId.get(token.key_id));
      if (found) this.#byHash.set(token.digest, found);
    }
  }

  /**
   * A stored token's standing: that of its provider id when the index knows the id (the entry's current key, a
   * rotated-out key); the entry's own when the write named no id, the entry records none, or the entry is revoked;
   * otherwise a token the entry no longer holds (a rotation's new key that was rolled back, an id the registry
   * since replaced), which counts as rotated out, since when unknown. A digest of an entry no longer in the
   * registry attributes to nothing (the record counts as an unregistered key).
   */
  #standingOfToken(
    token: TokenDigest,
    own: IndexedCredential | undefined,
    entry: CredentialIndexEntry | undefined,
  ): IndexedCredential | undefined {
    if (token.provider_key_id !== null) {
      const known = this.#getById(token.provider, token.provider_key_id);
      if (known?.keyId === token.key_id) return known;
    }
    if (!own || !entry) return undefined;
    if (own.standing === 'revoked') return own;
    const current =
      token.provider_key_id === null ||
      entry.provider_key_id === undefined ||
      normaliseId(String(entry.provider_key_id)) === normaliseId(token.provider_key_id);
    if (current) return own;
    return {
      keyId: entry.key_id,
      standing: 'rotated-out',
      ...(own.ownerTeam ? { ownerTeam: own.ownerTeam } : {}),
      ...(own.owner ? { owner: own.owner } : {}),
    };
  }

  get size(): number {
    return this.#size;
  }

  #getById(provider: string, id: string): IndexedCredential | undefined {
    return this.#byId.get(provider)?.get(normaliseId(id));
  }

  #setById(provider: string, id: string, credential: IndexedCredential): void {
    let ids = this.#byId.get(provider);
    if (!ids) {
      ids = new Map();
      this.#byId.set(provider, ids);
    }
    const key = normaliseId(id);
    if (!ids.has(key)) this.#size += 1;
    ids.set(key, credential);
  }

  find(provider: string, credential: { providerKeyId?: string; hashedToken?: string }): IndexedCredential | undefined {
    if (credential.providerKeyId !== undefined) {
      const found = this.#getById(provider, credential.providerKeyId);
      if (found) return found;
    }
    return credential.hashedToken !== undefined ? this.#byHash.get(credential.hashedToken) : undefined;
  }

  /** The team whose entries declare a source holding `source` (an IP or a service name); null when none or several. */
  teamOfSource(source: string): string | null {
    if (this.#teamSources.length === 0) return null;
    const cached = this.#teamOfSource.get(source);
    if (cached !== undefined) return cached;
    let team: string | null = null;
    let several = false;
    const parsed = parseSource(source);
    for (const candidate of this.#teamSources) {
      if (candidate.team === team || !candidate.matcher.matches(parsed)) continue;
      if (team === null) team = candidate.team;
      else several = true;
    }
    const found = several ? null : team;
    // Sources repeat (a service's few addresses), but a log of scattered ones must not grow memory without bound.
    if (this.#teamOfSource.size >= TEAM_OF_SOURCE_MEMO) this.#teamOfSource.clear();
    this.#teamOfSource.set(source, found);
    return found;
  }
}
