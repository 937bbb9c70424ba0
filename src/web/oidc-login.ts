// OIDC authorization code flow with PKCE through openid-client: discovery once, an authorization URL per login
// (state, nonce and S256 challenge; the verifier stays server-side in the session store), and the callback's
// code exchange, ID-token validation and claim mapping to a Principal of kind `session`.
import * as client from 'openid-client';
import type { Principal } from '../server/access.js';
import { type OidcSettings, rolesFromClaim, teamsFromClaim } from './web-config.js';

export interface AuthorizationStart {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export class OidcLogin {
  readonly #settings: OidcSettings;
  readonly #redirectUri: string;
  #configuration: Promise<client.Configuration> | undefined;

  constructor(settings: OidcSettings, redirectUri: string) {
    this.#settings = settings;
    this.#redirectUri = redirectUri;
  }

  get issuer(): string {
    return this.#settings.issuer;
  }

  #config(): Promise<client.Configuration> {
    this.#configuration ??= client
      .discovery(
        new URL(this.#settings.issuer),
        this.#settings.clientId,
        this.#settings.clientSecret,
        undefined,
        this.#settings.allowInsecureIssuer ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((error: unknown) => {
        // A provider down at start is retried at the next login, not remembered as broken.
        this.#configuration = undefined;
        throw error;
      });
    return this.#configuration;
  }

  async start(): Promise<AuthorizationStart> {
    const config = await this.#config();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.#redirectUri,
      scope: this.#settings.scope,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state, nonce, codeVerifier };
  }

  /** Exchanges the callback's code; the principal comes from the ID token's claims (and userinfo for missing ones). */
  async finish(callbackUrl: URL, expected: { state: string; nonce: string; codeVerifier: string }): Promise<Principal> {
    const config = await this.#config();
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: expected.codeVerifier,
      expectedState: expected.state,
      expectedNonce: expected.nonce,
      idTokenExpected: true,
    });
    let claims: Record<string, unknown> = { ...tokens.claims() };
    const { rolesClaim, teamsClaim, emailClaim } = this.#settings;
    if ([rolesClaim, teamsClaim, emailClaim].some((name) => claims[name] === undefined)) {
      // Providers that keep scope claims out of the ID token (OIDC core 5.4) give them at userinfo.
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, String(claims.sub));
      claims = { ...userinfo, ...claims };
    }
    return principalFromClaims(claims, this.#settings);
  }
}

export function principalFromClaims(claims: Record<string, unknown>, settings: OidcSettings): Principal {
  const email = typeof claims[settings.emailClaim] === 'string' ? (claims[settings.emailClaim] as string) : undefined;
  const teams = teamsFromClaim(claims[settings.teamsClaim]);
  const roles = rolesFromClaim(claims[settings.rolesClaim], settings.roleMap);
  return {
    kind: 'session',
    subject: email ?? String(claims.sub),
    ...(email ? { email: email.toLowerCase() } : {}),
    // A person the directory gives no role is a member of their teams: they see their teams' keys, no more.
    roles: roles.length > 0 ? roles : ['member'],
    teams,
    scopes: ['*'],
  };
}
