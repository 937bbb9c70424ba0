// The checks of Okta's published SCIM 2.0 spec test (fixtures/SOURCE.md) and the RFC 7644 shapes around them, on
// a real server over both engines: list with integer paging, get, filters, create, 409 on a duplicate userName,
// 401 and 404 with the SCIM error body, the discovery documents, and the token kept out of every answer and log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { createIdpCredential } from '../../directory/idp-credentials.js';
import { type IdpTestServer, startIdpTestServer } from '../test-support/idp-test-server.js';
import { scimClient } from '../test-support/scim-client.js';
import { createScimModule } from './scim-module.js';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

function user(name: string, extra: Record<string, unknown> = {}) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: `${name}@example.com`,
    name: { givenName: name, familyName: 'Spec' },
    emails: [{ primary: true, value: `${name}@example.com`, type: 'work' }],
    displayName: `${name} Spec`,
    externalId: `ext-${name}`,
    active: true,
    ...extra,
  };
}

forEachBackend((backend) => {
  describe("Okta's SCIM 2.0 spec test checks", () => {
    let server: IdpTestServer;
    let scim: ReturnType<typeof scimClient>;
    let token: string;
    const ids: string[] = [];

    beforeAll(async () => {
      server = await startIdpTestServer(backend, [createScimModule()]);
      token = (await createIdpCredential(server.app.operational.db, 'scim', { clock: server.clock, actor: 'test' }))
        .secret;
      scim = scimClient(server.url, token);
      for (const name of ['ada', 'bob', 'cyd', 'dee', 'eve'])
        ids.push((await scim('POST', '/Users', user(name))).body.id);
    });
    afterAll(() => server.close());

    it('401 with the SCIM error body without a token, with a wrong one, and with another scheme', async () => {
      for (const client of [
        scimClient(server.url, undefined),
        scimClient(server.url, 'kl_idp_not-the-token'),
        scimClient(server.url, ''),
      ]) {
        const response = await client('GET', '/Users');
        expect(response.status).toBe(401);
        expect(response.contentType).toContain('application/scim+json');
        expect(response.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '401' });
        expect(response.headers.get('www-authenticate')).toContain('Bearer');
      }
      const basic = await scimClient(server.url, undefined)('GET', '/Users', undefined, {
        authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}`,
      });
      expect(basic.status).toBe(401);
    });

    it('lists with startIndex and count as integers, in a stable order that pages through everyone once', async () => {
      const first = await scim('GET', '/Users?count=1&startIndex=1');
      expect(first.status).toBe(200);
      expect(first.body.schemas).toEqual([LIST_SCHEMA]);
      expect(first.body).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 1 });
      expect(Number.isInteger(first.body.totalResults)).toBe(true);
      expect(first.body.Resources).toHaveLength(1);
      const seen: string[] = [];
      for (let start = 1; start <= 5; start += 2) {
        const page = await scim('GET', `/Users?startIndex=${start}&count=2`);
        expect(page.body.startIndex).toBe(start);
        seen.push(...page.body.Resources.map((resource: { id: string }) => resource.id));
      }
      expect(seen).toEqual(ids);
      const beyond = await scim('GET', '/Users?startIndex=50&count=10');
      expect(beyond.body).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
      const countOnly = await scim('GET', '/Users?count=0');
      expect(countOnly.body).toMatchObject({ totalResults: 5, itemsPerPage: 0 });
      const bad = await scim('GET', '/Users?startIndex=one');
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    });

    it('gets a user by id with id, userName, name, emails, active and meta', async () => {
      const response = await scim('GET', `/Users/${ids[0]}`);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        id: ids[0],
        userName: 'ada@example.com',
        name: { givenName: 'ada', familyName: 'Spec' },
        emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
        active: true,
        meta: { resourceType: 'User', location: `https://keyledger.example.test/scim/v2/Users/${ids[0]}` },
      });
    });

    it('filters with eq, sw, co and and on userName, externalId, the work email and displayName', async () => {
      const filterIds = async (filter: string) => {
        const response = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
        expect(response.status).toBe(200);
        return response.body.Resources.map((resource: { userName: string }) => resource.userName);
      };
      expect(await filterIds('userName eq "BOB@example.com"')).toEqual(['bob@example.com']);
      expect(await filterIds('externalId eq "ext-cyd"')).toEqual(['cyd@example.com']);
      // externalId is case-exact (RFC 7643 section 3.1).
      expect(await filterIds('externalId eq "EXT-cyd"')).toEqual([]);
      expect(await filterIds('emails[type eq "work"].value eq "dee@example.com"')).toEqual(['dee@example.com']);
      expect(await filterIds('displayName sw "e"')).toEqual(['eve@example.com']);
      expect(await filterIds('displayName co "y"')).toEqual(['cyd@example.com']);
      expect(await filterIds('userName sw "a" and displayName co "spec"')).toEqual(['ada@example.com']);
      expect(await filterIds('userName eq "ada@example.com" or userName eq "eve@example.com"')).toEqual([
        'ada@example.com',
        'eve@example.com',
      ]);
      expect(await filterIds('userName eq "nobody-3f9d@example.com"')).toEqual([]);
      expect(await filterIds('userName eq "ada@example.com" and active eq true')).toEqual(['ada@example.com']);
      expect(await filterIds('userName eq "ada@example.com" and active eq false')).toEqual([]);
      const broken = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
      expect(broken.status).toBe(400);
      expect(broken.body).toMatchObject({ schemas: [ERROR_SCHEMA], scimType: 'invalidFilter', status: '400' });
    });

    it('creates with 201 and answers a duplicate userName, in any case, with 409 and the SCIM error body', async () => {
      const created = await scim('POST', '/Users', user('fay'));
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ userName: 'fay@example.com', active: true });
      expect(created.body.id).toEqual(expect.any(String));
      const duplicate = await scim('POST', '/Users', { ...user('fay'), userName: 'FAY@example.com' });
      expect(duplicate.status).toBe(409);
      expect(duplicate.contentType).toContain('application/scim+json');
      expect(duplicate.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '409', scimType: 'uniqueness' });
      const count = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "fay@example.com"')}`);
      expect(count.body.totalResults).toBe(1);
    });

    it('answers an unknown id with 404 and the SCIM error body, on every method', async () => {
      for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
        const body =
          method === 'PUT'
            ? user('nobody')
            : method === 'PATCH'
              ? { Operations: [{ op: 'replace', value: { active: false } }] }
              : undefined;
        const response = await scim(method, '/Users/00000000-0000-0000-0000-000000000000', body);
        expect(response.status).toBe(404);
        expect(response.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '404' });
      }
    });

    it('refuses bad input with a SCIM 400 and writes nothing', async () => {
      const noUserName = await scim('POST', '/Users', { schemas: [], emails: [{ value: 'x@example.com' }] });
      expect(noUserName.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
      const badJson = await scim('POST', '/Users', '{"userName":');
      expect(badJson.body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
      const badOp = await scim('PATCH', `/Users/${ids[1]}`, { Operations: [{ op: 'merge', path: 'active' }] });
      expect(badOp.body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
      const badActive = await scim('PATCH', `/Users/${ids[1]}`, {
        Operations: [{ op: 'replace', path: 'active', value: 'maybe' }],
      });
      expect(badActive.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
      expect((await scim('GET', `/Users/${ids[1]}`)).body.active).toBe(true);
    });

    it('accepts application/json as Okta sends it, and answers application/scim+json', async () => {
      const response = await scim('POST', '/Users', JSON.stringify(user('gus')), {
        'content-type': 'application/json',
      });
      expect(response.status).toBe(201);
      expect(response.contentType).toContain('application/scim+json');
    });

    it('serves /ServiceProviderConfig, /ResourceTypes and /Schemas with the enterprise extension', async () => {
      const config = await scim('GET', '/ServiceProviderConfig');
      expect(config.body).toMatchObject({ patch: { supported: true }, filter: { supported: true, maxResults: 1000 } });
      expect(config.body.authenticationSchemes[0].type).toBe('oauthbearertoken');
      const types = await scim('GET', '/ResourceTypes');
      expect(types.body.Resources.map((type: { id: string }) => type.id)).toEqual(['User', 'Group']);
      expect(types.body.Resources[0].schemaExtensions[0].schema).toBe(
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      );
      const schemaList = await scim('GET', '/Schemas');
      expect(schemaList.body.totalResults).toBe(3);
      const enterprise = await scim('GET', '/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User');
      expect(enterprise.body.attributes.map((attribute: { name: string }) => attribute.name)).toContain('manager');
      expect((await scim('GET', '/Schemas/urn:nope')).status).toBe(404);
    });

    it('never puts the bearer token in an answer or a log line', async () => {
      const wrong = `${token}x`;
      const response = await scimClient(server.url, wrong)('GET', '/Users');
      expect(JSON.stringify(response.body)).not.toContain(token);
      expect(server.logLines.join('\n')).not.toContain(token);
      // Every row of every table of the store: the token (raw, base64, hex) appears nowhere.
      const db = server.app.operational.db;
      const tables = await db.introspection.getTables();
      const dump: unknown[] = [];
      for (const table of tables) {
        dump.push(
          await db
            .selectFrom(table.name as 'events')
            .selectAll()
            .execute(),
        );
      }
      const text = JSON.stringify(dump);
      expect(tables.map((table) => table.name)).toContain('idp_credentials');
      for (const form of [token, Buffer.from(token).toString('base64'), Buffer.from(token).toString('hex')])
        expect(text).not.toContain(form);
    });
  });
});
