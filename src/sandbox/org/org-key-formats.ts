// How each provider's keys look in a generated organisation: the kind of credential, the account it hangs off,
// the provider's id and a secret in the provider's real format, and permissions (with an admin variant). Providers
// that have a sandbox (aws-iam, github, gitlab) use their sandbox's format module; the others' formats are here
// until their sandboxes exist — move an entry into `sandbox/providers/<name>/` when you add one.
import { createHash } from 'node:crypto';
import { generateDeployKey } from '../../providers/github/github-deploy-key.js';
import { generateAwsAccessKey } from '../providers/aws-iam/aws-iam-key-format.js';
import {
  generateDatadogApiKey,
  generateDatadogApplicationKey,
  generateDatadogKeyId,
} from '../providers/datadog/datadog-key-format.js';
import { deterministicGcpPrivateKeyPem, gcpKeyFile } from '../providers/gcp/gcp-key-format.js';
import { generateFineGrainedPat, generateGithubToken } from '../providers/github/github-key-format.js';
import { generateGitlabToken } from '../providers/gitlab/gitlab-key-format.js';
import { BASE62, randomString } from '../sandbox-seed.js';
import type { SeededRandom } from './seeded-random.js';

const HEX = '0123456789abcdef';
const URLSAFE = `${BASE62}_-`;

export interface KeyFormatInput {
  random: SeededRandom;
  /** A number unique across the organisation, for ids that must not collide. */
  ordinal: number;
  team: string;
  /** The creator's login (`alice.smith`) and their numeric id at providers that number users. */
  login: string;
  userNumber: number;
  org: string;
  admin: boolean;
  /** A service (not a person's own) credential: a service user, a bot, a team's project. */
  service: boolean;
  /** Repositories and projects of the creator's team. */
  repositories: string[];
  projectIds: number[];
  groupId: number;
}

export interface KeyFormatOutput {
  kind: string;
  account: string;
  providerKeyId: string;
  secret: string;
  publicKey?: string;
  /** Key material that is costly to derive, computed on first read of `secret`/`publicKey` instead. */
  material?: () => { secret: string; publicKey: string };
  permissions: string[];
  /** The brief's category of the key, for the ground truth. */
  category: 'personal-cloud-access' | 'temporary-integration' | 'shared-service-account' | 'service-integration';
}

type KeyFormat = (input: KeyFormatInput) => KeyFormatOutput;

const r = (input: KeyFormatInput) => input.random.next;

export const KEY_FORMATS: Record<string, KeyFormat> = {
  'aws-iam': (input) => {
    const { accessKeyId, secretAccessKey } = generateAwsAccessKey(r(input));
    return {
      kind: 'iam-access-key',
      // At most two keys per user: service users are numbered so that each holds one key.
      account: input.service ? `svc-${input.team}-${input.ordinal}` : input.login,
      providerKeyId: accessKeyId,
      secret: secretAccessKey,
      permissions: input.admin
        ? ['AdministratorAccess']
        : [input.random.pick(['s3:GetObject', 'sqs:SendMessage', 'dynamodb:Query', 'ses:SendEmail'])],
      category: input.service ? 'shared-service-account' : 'personal-cloud-access',
    };
  },
  github: (input) => {
    const roll = input.random.next();
    if (input.service && roll < 0.5) {
      const repository = `${input.org}/${input.random.pick(input.repositories)}`;
      const seed = input.random.bytes(32);
      const comment = `${input.team}-deploy-${input.ordinal}`;
      return {
        kind: 'deploy-key',
        account: repository,
        providerKeyId: String(200_000 + input.ordinal),
        secret: '',
        // Deriving an Ed25519 key costs ~0.7 ms: done on first use, so a 100k organisation generates in seconds.
        material: () => {
          const pair = generateDeployKey(comment, seed);
          return { secret: pair.privateKey, publicKey: pair.publicKey };
        },
        permissions: input.admin ? ['write'] : ['read'],
        category: 'service-integration',
      };
    }
    const classic = roll > 0.9;
    return {
      kind: classic ? 'classic-pat' : 'fine-grained-pat',
      account: input.org,
      providerKeyId: String(100_000 + input.ordinal),
      secret: classic ? generateGithubToken('ghp', r(input)) : generateFineGrainedPat(r(input)),
      // A classic token has OAuth scopes (what the SAML organisation's credential authorizations list); a
      // fine-grained one has permissions per resource.
      permissions: classic
        ? input.admin
          ? ['repo', 'admin:org', 'delete_repo']
          : ['repo', 'read:org']
        : input.admin
          ? ['administration:write', 'members:write', 'contents:write']
          : ['contents:read', 'metadata:read'],
      category: input.service ? 'shared-service-account' : 'personal-cloud-access',
    };
  },
  gitlab: (input) => {
    const roll = input.random.next();
    const account = input.service
      ? roll < 0.75
        ? `project:${input.random.pick(input.projectIds)}`
        : `group:${input.groupId}`
      : `user:${input.userNumber}`;
    return {
      kind: account.startsWith('project')
        ? 'project-access-token'
        : account.startsWith('group')
          ? 'group-access-token'
          : 'personal-access-token',
      account,
      providerKeyId: String(10_000 + input.ordinal),
      secret: generateGitlabToken(r(input)),
      permissions: input.admin ? ['api', 'sudo', 'admin_mode'] : ['read_api', 'read_repository'],
      category: input.service ? 'service-integration' : 'personal-cloud-access',
    };
  },
  gcp: (input) => {
    const keyId = randomString(HEX, 40, r(input));
    // A service account holds at most 10 keys: service keys get an account each (`<team>-svc-<n>`), as AWS service
    // users do, so that each has room for the rotation's new key.
    const email = `${input.service ? `${input.team}-svc-${input.ordinal}` : input.login.replace('.', '-')}@${input.org}-prod.iam.gserviceaccount.com`;
    return {
      kind: 'service-account-key',
      account: email,
      providerKeyId: keyId,
      secret: '',
      // A real key file; its RSA pair is derived from the organisation's name (one pair shared by the
      // organisation's GCP keys: generating thousands would take minutes) on first read.
      material: () => ({
        secret: JSON.stringify(
          gcpKeyFile({
            projectId: `${input.org}-prod`,
            keyId,
            privateKeyPem: deterministicGcpPrivateKeyPem(input.org),
            email,
            uniqueId: (BigInt(`0x${keyId}`) % 10n ** 21n).toString().padStart(21, '1'),
            tokenUri: 'https://oauth2.googleapis.com/token',
          }),
        ),
        publicKey: '',
      }),
      permissions: input.admin ? ['roles/owner'] : ['roles/storage.objectViewer'],
      category: input.service ? 'shared-service-account' : 'personal-cloud-access',
    };
  },
  azure: (input) => ({
    kind: 'app-password',
    account: `app-${input.team}-${input.random.int(1, 9)}`,
    providerKeyId: uuid(input),
    secret: `${randomString(URLSAFE, 3, r(input))}8Q~${randomString(`${BASE62}.~_-`, 34, r(input))}`,
    permissions: input.admin ? ['Directory.ReadWrite.All'] : ['User.Read'],
    category: 'service-integration',
  }),
  datadog: (input) => {
    const apiKey = input.random.chance(0.6);
    return {
      kind: apiKey ? 'api-key' : 'application-key',
      account: `${input.org}-datadog`,
      providerKeyId: generateDatadogKeyId(r(input)),
      secret: apiKey ? generateDatadogApiKey(r(input)) : generateDatadogApplicationKey(r(input)),
      permissions: input.admin ? ['api_keys_write', 'user_access_manage'] : ['metrics_write'],
      category: 'service-integration',
    };
  },
  openai: (input) => ({
    // A service account's key (sk-svcacct-, created by the admin API) or a person's project key (sk-proj-, made in
    // the dashboard): the adapter's two kinds.
    kind: input.service ? 'service-account-key' : 'project-api-key',
    account: `proj_${randomString(BASE62, 24, r(input))}`,
    providerKeyId: `key_${randomString(BASE62, 16, r(input))}`,
    secret: `sk-${input.service ? 'svcacct' : 'proj'}-${randomString(URLSAFE, 74, r(input))}T3BlbkFJ${randomString(URLSAFE, 74, r(input))}`,
    permissions: input.admin ? ['all'] : ['model.request'],
    category: input.service ? 'shared-service-account' : 'temporary-integration',
  }),
  cloudflare: (input) => ({
    kind: 'api-token',
    account: `${input.org}.com`,
    providerKeyId: randomString(HEX, 32, r(input)),
    secret: randomString(URLSAFE, 40, r(input)),
    permissions: input.admin ? ['Account Settings:Edit', 'Zone:Edit'] : ['Zone:Read', 'DNS:Read'],
    category: 'service-integration',
  }),
  twilio: (input) => ({
    kind: 'api-key',
    account: `AC${randomString(HEX, 32, r(input))}`,
    providerKeyId: `SK${randomString(HEX, 32, r(input))}`,
    secret: randomString(BASE62, 32, r(input)),
    permissions: input.admin ? ['main'] : ['standard'],
    category: 'temporary-integration',
  }),
  sendgrid: (input) => {
    const id = randomString(URLSAFE, 22, r(input));
    return {
      kind: 'api-key',
      account: `${input.org}-mail`,
      providerKeyId: id,
      secret: `SG.${id}.${randomString(URLSAFE, 43, r(input))}`,
      // Scopes SendGrid lets an admin key grant (user.profile.read, not the legacy user.account.read).
      permissions: input.admin ? ['api_keys.create', 'user.profile.read'] : ['mail.send'],
      category: 'temporary-integration',
    };
  },
  stripe: (input) => {
    const restricted = !input.admin;
    const secret = `${restricted ? 'rk' : 'sk'}_live_${randomString(BASE62, 99, r(input))}`;
    return {
      kind: restricted ? 'restricted-key' : 'secret-key',
      account: `acct_${randomString(BASE62, 16, r(input))}`,
      // Stripe shows no id for a key; the last four characters and a hash stand in, as the dashboard shows them.
      providerKeyId: `${secret.slice(0, 8)}…${secret.slice(-4)}-${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`,
      secret,
      permissions: restricted ? ['charges:write', 'customers:read'] : ['*'],
      category: 'service-integration',
    };
  },
  slack: (input) => {
    const webhook = input.random.chance(0.6);
    const team = `T${randomString('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10, r(input))}`;
    const id = `B${randomString('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10, r(input))}`;
    return {
      kind: webhook ? 'incoming-webhook' : 'bot-token',
      account: team,
      providerKeyId: id,
      secret: webhook
        ? `https://hooks.slack.com/services/${team}/${id}/${randomString(BASE62, 24, r(input))}`
        : `xoxb-${input.random.int(1e11, 9e11)}-${input.random.int(1e12, 9e12)}-${randomString(BASE62, 24, r(input))}`,
      permissions: input.admin ? ['admin', 'chat:write'] : ['chat:write'],
      category: 'temporary-integration',
    };
  },
};

function uuid(input: KeyFormatInput): string {
  const hex = randomString(HEX, 32, r(input));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
