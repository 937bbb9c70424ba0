// The organisation generator: the profile's numbers exactly, reproducible from a seed, keys in real formats, and a
// registry and people directory that keyledger's own schemas accept.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parsePeopleDirectory } from '../../directory/people-directory.js';
import { AWS_IAM_CAPABILITIES } from '../../providers/aws-iam/aws-iam-constants.js';
import { AZURE_CAPABILITIES } from '../../providers/azure/azure-constants.js';
import { CLOUDFLARE_CAPABILITIES } from '../../providers/cloudflare/cloudflare-constants.js';
import { DATADOG_CAPABILITIES } from '../../providers/datadog/datadog-constants.js';
import { GCP_CAPABILITIES } from '../../providers/gcp/gcp-constants.js';
import { GITHUB_CAPABILITIES } from '../../providers/github/github-constants.js';
import { GITLAB_CAPABILITIES } from '../../providers/gitlab/gitlab-constants.js';
import { OPENAI_CAPABILITIES } from '../../providers/openai/openai-constants.js';
import type { ProviderCapabilities } from '../../providers/provider.js';
import { SENDGRID_CAPABILITIES } from '../../providers/sendgrid/sendgrid-constants.js';
import { SLACK_CAPABILITIES } from '../../providers/slack/slack-constants.js';
import { STRIPE_CAPABILITIES } from '../../providers/stripe/stripe-constants.js';
import { TWILIO_CAPABILITIES } from '../../providers/twilio/twilio-constants.js';
import { keyEntrySchema } from '../../registry/key-entry-schema.js';
import { isValidGithubToken } from '../../runtime/base62-crc32.js';
import { AWS_ACCESS_KEY_ID_PATTERN } from '../providers/aws-iam/aws-iam-key-format.js';
import { GITLAB_TOKEN_PATTERN } from '../providers/gitlab/gitlab-key-format.js';
import { generateOrg } from './org-generator.js';
import { groundTruth, writeOrg } from './org-writer.js';

describe('generateOrg', () => {
  it('reproduces the brief: 110 people, 1,200 keys, 280 without a clear owner, 65 of leavers, some admin', () => {
    const org = generateOrg({ profile: 'default', seed: 1 });
    expect(org.summary).toMatchObject({ people: 110, keys: 1200, noClearOwner: 280, ownerLeft: 65 });
    expect(org.people.filter((p) => p.status === 'active')).toHaveLength(110);
    expect(org.summary.adminScope).toBeGreaterThan(20);
    expect(org.summary.sharedBetweenTeams).toBeGreaterThan(20);
    expect(org.summary.unused90Days).toBeGreaterThan(60);
    expect(org.keys.filter((k) => k.noClearOwner && k.admin).length).toBeGreaterThan(0);
  });

  it("gives a cloud principal's keys one set of permissions: IAM and GCP grant them to the user or account", () => {
    // The adapters read permissions per IAM user and per service account (ListAttachedUserPolicies, the project's
    // IAM policy): a principal whose keys differed would make the sandbox's answers and the ground truth disagree.
    for (const seed of [1, 2, 3]) {
      const org = generateOrg({ profile: 'default', seed });
      for (const provider of ['aws-iam', 'gcp']) {
        const byAccount = new Map<string, Set<string>>();
        for (const key of org.keys.filter((k) => k.provider === provider)) {
          const seen = byAccount.get(key.account) ?? new Set<string>();
          seen.add(JSON.stringify({ admin: key.admin, permissions: key.permissions }));
          byAccount.set(key.account, seen);
        }
        expect([...byAccount.values()].filter((facts) => facts.size > 1)).toEqual([]);
      }
      // Accounts with several keys exist (a person's GCP keys share their account), so the test tests something.
      const gcpAccounts = org.keys.filter((k) => k.provider === 'gcp').map((k) => k.account);
      expect(new Set(gcpAccounts).size).toBeLessThan(gcpAccounts.length);
    }
  });

  it('is the same organisation for the same seed, and another for another seed', () => {
    const a = generateOrg({ profile: 'small', seed: 42 });
    const b = generateOrg({ profile: 'small', seed: 42 });
    const c = generateOrg({ profile: 'small', seed: 43 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it('tells the truth about leavers: left after joining, and their keys predate their leaving', () => {
    const org = generateOrg({ profile: 'default', seed: 3 });
    const byEmail = new Map(org.people.map((p) => [p.email, p]));
    for (const person of org.people.filter((p) => p.status === 'left')) {
      expect(Date.parse(person.leftAt!)).toBeGreaterThan(Date.parse(person.joinedAt));
    }
    for (const key of org.keys.filter((k) => k.ownerLeft)) {
      const owner = byEmail.get(key.registryOwnerIndividual!)!;
      expect(owner.status).toBe('left');
      expect(Date.parse(key.createdAt)).toBeLessThanOrEqual(Date.parse(owner.leftAt!));
    }
    for (const key of org.keys.filter((k) => k.noClearOwner)) expect(key.registryOwnerIndividual).toBeUndefined();
  });

  it('mints keys in the providers’ real formats, unique, each account with room for a rotation’s new key', () => {
    const org = generateOrg({ profile: 'default', seed: 5 });
    const aws = org.keys.filter((k) => k.provider === 'aws-iam');
    for (const key of aws) {
      expect(key.providerKeyId).toMatch(AWS_ACCESS_KEY_ID_PATTERN);
      expect(key.secret).toHaveLength(40);
    }
    const perUser = new Map<string, number>();
    for (const key of aws) perUser.set(key.account, (perUser.get(key.account) ?? 0) + 1);
    // IAM holds two keys per user and GCP ten per service account: one more must fit for the key to be rotated.
    expect(Math.max(...perUser.values())).toBe(1);
    const perServiceAccount = new Map<string, number>();
    for (const key of org.keys.filter((k) => k.provider === 'gcp'))
      perServiceAccount.set(key.account, (perServiceAccount.get(key.account) ?? 0) + 1);
    expect(Math.max(...perServiceAccount.values())).toBeLessThan(10);
    for (const key of org.keys.filter((k) => k.kind === 'classic-pat'))
      expect(isValidGithubToken(key.secret)).toBe(true);
    for (const key of org.keys.filter((k) => k.kind === 'fine-grained-pat'))
      expect(key.secret).toMatch(/^github_pat_\w{82}$/);
    for (const key of org.keys.filter((k) => k.kind === 'deploy-key'))
      expect(key.secret).toContain('OPENSSH PRIVATE KEY');
    for (const key of org.keys.filter((k) => k.provider === 'gitlab')) expect(key.secret).toMatch(GITLAB_TOKEN_PATTERN);
    expect(new Set(org.keys.map((k) => `${k.provider}:${k.providerKeyId}`)).size).toBe(org.keys.length);
    expect(new Set(org.keys.map((k) => k.keyId)).size).toBe(org.keys.length);
  });

  it('names keys as the adapters see them: each kind one its adapter knows, "deploy" only for deploy keys', () => {
    const org = generateOrg({ profile: 'default', seed: 1 });
    const capabilities: Record<string, ProviderCapabilities> = {
      'aws-iam': AWS_IAM_CAPABILITIES,
      azure: AZURE_CAPABILITIES,
      cloudflare: CLOUDFLARE_CAPABILITIES,
      datadog: DATADOG_CAPABILITIES,
      gcp: GCP_CAPABILITIES,
      github: GITHUB_CAPABILITIES,
      gitlab: GITLAB_CAPABILITIES,
      openai: OPENAI_CAPABILITIES,
      sendgrid: SENDGRID_CAPABILITIES,
      slack: SLACK_CAPABILITIES,
      stripe: STRIPE_CAPABILITIES,
      twilio: TWILIO_CAPABILITIES,
    };
    for (const key of org.keys) {
      const kinds = capabilities[key.provider]!.kinds;
      if (kinds) expect(Object.keys(kinds), key.keyId).toContain(key.kind);
    }
    const named = (provider: string, word: string) =>
      org.keys.filter((key) => key.provider === provider && key.keyId.includes(`-${word}`));
    expect(named('github', 'deploy').length).toBeGreaterThan(0);
    for (const key of named('github', 'deploy')) expect(key.kind, key.keyId).toBe('deploy-key');
    for (const key of org.keys.filter((k) => k.kind === 'deploy-key')) expect(key.account).toContain('/');
    for (const key of named('slack', 'webhook')) expect(key.kind, key.keyId).toBe('incoming-webhook');
    for (const key of named('slack', 'bot')) expect(key.kind, key.keyId).toBe('bot-token');
    for (const key of org.keys.filter((k) => k.provider === 'openai'))
      expect(key.secret.startsWith('sk-svcacct-'), key.keyId).toBe(key.kind === 'service-account-key');
  });

  it("plants rotated-out uses on plain IAM keys only, between the rotation and the successor's last use", () => {
    const org = generateOrg({ profile: 'default', seed: 1 });
    const rotated = org.keys.filter((key) => key.rotatedOut);
    expect(rotated.length).toBeGreaterThan(0);
    const ids = new Set(org.keys.map((key) => key.providerKeyId));
    for (const key of rotated) {
      const { previousKeyId, rotatedAt, usedAt } = key.rotatedOut!;
      expect(key.provider).toBe('aws-iam');
      expect(key.registered && !key.registryStatus && !key.strayUseFrom && !key.admin).toBe(true);
      expect(previousKeyId).toMatch(AWS_ACCESS_KEY_ID_PATTERN);
      expect(ids.has(previousKeyId)).toBe(false);
      expect(rotatedAt).toBe(key.createdAt);
      expect(Date.parse(usedAt)).toBeGreaterThan(Date.parse(rotatedAt));
      expect(Date.parse(usedAt)).toBeLessThan(Date.parse(key.lastUsedAt!));
    }
  });

  it('calls shared unregistered keys from an address only each consuming team declares; gives service tokens to machine users', () => {
    const org = generateOrg({ profile: 'default', seed: 1 });
    const declared = new Map<string, Set<string>>();
    // A source counts for the owner team of the entry that declares it (src/audit/credential-index.ts, teamOfSource).
    for (const key of org.keys)
      for (const source of key.registryOwnerTeam ? (key.expectedSources ?? []) : []) {
        const teams = declared.get(source.replace(/\/32$/, '')) ?? new Set<string>();
        teams.add(key.registryOwnerTeam!);
        declared.set(source.replace(/\/32$/, ''), teams);
      }
    const shared = org.keys.filter((key) => key.sharedUseFrom);
    expect(shared.length).toBeGreaterThan(0);
    // Every unregistered key of several teams is one whose teams an audit log tells apart: no other is dealt.
    expect(org.keys.filter((key) => !key.registered && key.consumers.length > 1)).toEqual(shared);
    expect(new Set(shared.map((key) => key.provider))).toEqual(new Set(['aws-iam', 'datadog', 'gcp', 'azure']));
    for (const key of shared) {
      expect(key.registered).toBe(false);
      expect(key.sharedUseFrom!.map((address) => [...declared.get(address)!])).toEqual(
        key.consumers.map((team) => [team]),
      );
    }
    const tokens = org.keys.filter((key) => key.provider === 'github' && key.kind !== 'deploy-key');
    expect(tokens.some((key) => key.holder)).toBe(true);
    const logins = new Set(org.people.map((person) => person.login));
    for (const key of tokens) {
      if (key.category === 'personal-cloud-access') expect(key.holder).toBeUndefined();
      if (key.holder) {
        expect(key.holder).toBe(`acme-${key.team}-bot`);
        expect(logins.has(key.holder)).toBe(false);
      }
    }
  });

  it('generates 100,000 keys in seconds', () => {
    const started = performance.now();
    const org = generateOrg({ profile: '100k', seed: 1 });
    const seconds = (performance.now() - started) / 1000;
    expect(org.keys).toHaveLength(100_000);
    expect(org.summary.noClearOwner).toBe(23_333);
    // Measured ~1.5 s on an idle 2-core machine; the bound leaves room for a busy one.
    expect(seconds).toBeLessThan(30);
  });
});

describe('writeOrg', () => {
  it('writes a registry the schema accepts, a people directory, ground truth without secrets, and secrets 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyledger-org-'));
    try {
      const org = generateOrg({ profile: 'small', seed: 9 });
      const result = await writeOrg(org, dir);
      expect(result.entries).toBe(org.keys.filter((k) => k.registered).length);
      const teams = await readdir(join(result.registryDir, 'keys'));
      let files = 0;
      for (const team of teams) {
        for (const file of await readdir(join(result.registryDir, 'keys', team))) {
          const entry = keyEntrySchema.parse(
            parse(await readFile(join(result.registryDir, 'keys', team, file), 'utf8')),
          );
          expect(`${entry.key_id}.yaml`).toBe(file);
          files++;
        }
      }
      expect(files).toBe(result.entries);
      const people = parsePeopleDirectory(await readFile(result.peopleFile, 'utf8'), result.peopleFile);
      expect(people.size).toBe(org.people.length);
      expect(
        people
          .people()
          .filter((p) => p.status === 'left')
          .every((p) => p.left_at),
      ).toBe(true);
      const truth = await readFile(result.groundTruthFile, 'utf8');
      for (const key of org.keys) expect(truth).not.toContain(key.secret.slice(0, 30));
      expect(JSON.parse(truth)).toMatchObject({ summary: org.summary });
      expect(groundTruth(org)).toBeTruthy();
      expect((await stat(result.secretsFile)).mode & 0o777).toBe(0o600);
      expect(Object.keys(JSON.parse(await readFile(result.secretsFile, 'utf8')))).toHaveLength(org.keys.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
