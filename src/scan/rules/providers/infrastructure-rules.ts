// Infrastructure and orchestration tools: Docker Swarm, k3s, Consul, Nomad, Portainer, Rancher, WireGuard and
// OpenVPN keys. Each rule with its true- and false-positive cases.
import { fakeChars, fakeUuid, HEX, LOWER36, t } from '../canary-secrets.js';
import { type BuiltinRule, customRule, namedSecretRule, tokenRule, UUID } from '../rule-builders.js';

const wireguardKey = t(fakeChars(4401, 42), 'E=');
const openvpnBody = Array.from({ length: 16 }, (_, i) => fakeChars(4410 + i, 32, HEX)).join('\n');
const openvpnKey = t(
  '-----BEGIN OpenVPN ',
  'Static key V1-----\n',
  openvpnBody,
  '\n-----END OpenVPN Static key V1-----',
);

export const INFRASTRUCTURE_RULES: BuiltinRule[] = [
  tokenRule({
    id: 'docker-swarm-join-token',
    description: 'Docker Swarm join token',
    token: 'SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}',
    keywords: ['swmtkn-1-'],
    variable: 'SWARM_TOKEN',
    sample: t('SWMTKN-', '1-', fakeChars(4402, 50, LOWER36), '-', fakeChars(4403, 25, LOWER36)),
  }),
  tokenRule({
    id: 'docker-swarm-unlock-key',
    description: 'Docker Swarm unlock key',
    token: 'SWMKEY-1-[0-9A-Za-z+/]{43}',
    keywords: ['swmkey-1-'],
    variable: 'SWARM_UNLOCK_KEY',
    sample: t('SWMKEY-', '1-', fakeChars(4404, 43)),
  }),
  tokenRule({
    id: 'k3s-node-token',
    description: 'k3s server or agent join token (K10<CA hash>::<user>:<password>)',
    token: 'K10[0-9a-f]{64}::[0-9a-z]{1,32}:[0-9A-Za-z]{16,64}',
    keywords: ['k10'],
    variable: 'K3S_TOKEN',
    sample: t('K10', fakeChars(4405, 64, HEX), '::server:', fakeChars(4406, 32)),
  }),
  namedSecretRule({
    id: 'consul-acl-token',
    description: 'HashiCorp Consul ACL token',
    names: ['consul_http_token', 'consul_token', 'consul_acl_token'],
    value: UUID,
    variable: 'CONSUL_HTTP_TOKEN',
    sample: fakeUuid(4407),
  }),
  namedSecretRule({
    id: 'nomad-acl-token',
    description: 'HashiCorp Nomad ACL token',
    names: ['nomad_token', 'nomad_acl_token'],
    value: UUID,
    variable: 'NOMAD_TOKEN',
    sample: fakeUuid(4408),
  }),
  // Checked 2026-12-07: https://docs.portainer.io/api/access documents access tokens (My account > Access tokens,
  // sent as X-API-Key) but not their format; the `ptr_` prefix is shown only in third-party guides
  // (https://oneuptime.com/blog/post/2026-03-20-portainer-generate-api-access-tokens/view). Length unconfirmed.
  tokenRule({
    id: 'portainer-api-token',
    description: 'Portainer API access token',
    token: 'ptr_[0-9A-Za-z+/]{43}=?',
    keywords: ['ptr_'],
    variable: 'PORTAINER_TOKEN',
    sample: t('ptr_', fakeChars(4409, 43)),
  }),
  namedSecretRule({
    id: 'rancher-api-token',
    description: 'Rancher API key (token-xxxxx:secret)',
    names: ['rancher', 'cattle'],
    value: 'token-[0-9a-z]{5}:[0-9a-z]{54}',
    caseSensitive: true,
    variable: 'RANCHER_TOKEN',
    sample: t('token-', fakeChars(4426, 5, LOWER36), ':', fakeChars(4427, 54, LOWER36)),
  }),
  customRule({
    id: 'wireguard-private-key',
    description: 'WireGuard interface private key',
    regex: String.raw`(?i)\bPrivateKey[ \t]*=[ \t]*([0-9A-Za-z+/]{42}[AEIMQUYcgkosw048]=)`,
    keywords: ['privatekey'],
    positives: [{ text: `[Interface]\nAddress = 10.0.0.2/32\nPrivateKey = ${wireguardKey}\n`, secret: wireguardKey }],
    negatives: ['[Interface]\nPrivateKey = <client private key>\n', `PublicKey = ${wireguardKey}\n`],
  }),
  customRule({
    id: 'openvpn-static-key',
    description: 'OpenVPN static key (tls-auth / tls-crypt)',
    regex: String.raw`(-----BEGIN OpenVPN Static key V1-----\r?\n(?:[0-9a-f]{32}\r?\n){16}-----END OpenVPN Static key V1-----)`,
    keywords: ['begin openvpn static key'],
    span: 1024,
    positives: [{ text: `<tls-auth>\n${openvpnKey}\n</tls-auth>\n`, secret: openvpnKey }],
    negatives: ['-----BEGIN OpenVPN Static key V1-----\n(key here)\n-----END OpenVPN Static key V1-----'],
  }),
];
