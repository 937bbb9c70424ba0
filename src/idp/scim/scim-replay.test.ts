// Replays the exact request bodies Okta and Microsoft Entra send (fixtures/SOURCE.md) against the SCIM module on a
// real Fastify server over a real store, on both engines: every deactivation variant becomes one departure, the
// deactivated user stays readable with `active: false`, and Okta's password is never kept or echoed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { directoryFor } from '../../directory/directory-store.js';
import type { DirectoryPerson, DirectorySignal } from '../../directory/identity-source.js';
import { createIdpCredential } from '../../directory/idp-credentials.js';
import { createIdentitySource } from '../identity-source-table.js';
import { type IdpTestServer, startIdpTestServer } from '../test-support/idp-test-server.js';
import { type ScimResponse, scimClient, scimFixture } from '../test-support/scim-client.js';
import { createScimModule } from './scim-module.js';

forEachBackend((backend) => {
  describe('SCIM requests as Okta and Entra send them', () => {
    let server: IdpTestServer;
    let scim: ReturnType<typeof scimClient>;
    let token: string;
    const departures: Array<[DirectoryPerson, DirectorySignal]> = [];

    beforeAll(async () => {
      server = await startIdpTestServer(backend, [createScimModule()]);
      token = (await createIdpCredential(server.app.operational.db, 'scim', { clock: server.clock, actor: 'test' }))
        .secret;
      scim = scimClient(server.url, token);
      directoryFor(server.app.operational.db, server.clock).onDeparture(async (person, signal) => {
        departures.push([person, signal]);
      });
    });
    afterAll(() => server.close());

    const departuresOf = (email: string) => departures.filter(([person]) => person.email === email);

    /** Creates a user from Entra's create body, with its userName, externalId and email made unique. */
    async function createEntraUser(tag: string): Promise<ScimResponse> {
      const body = JSON.parse(scimFixture('entra-create-user.json'));
      body.userName = `${tag}_${body.userName}`;
      body.externalId = `${tag}-${body.externalId}`;
      body.emails[0].value = `${tag}.${body.emails[0].value}`;
      const created = await scim('POST', '/Users', body);
      expect(created.status).toBe(201);
      return created;
    }

    it('Okta OIN: create (the password is dropped), filter, then PATCH replace with no path and {active: false}', async () => {
      const created = await scim('POST', '/Users', scimFixture('okta-create-user.json'));
      expect(created.status).toBe(201);
      expect(created.contentType).toContain('application/scim+json');
      expect(created.headers.get('location')).toBe(`https://keyledger.example.test/scim/v2/Users/${created.body.id}`);
      expect(created.body).toMatchObject({
        userName: 'test.user@okta.local',
        externalId: '00ujl29u0le5T6Aj10h7',
        active: true,
        name: { givenName: 'Test', familyName: 'User' },
        meta: { resourceType: 'User' },
      });
      expect(JSON.stringify(created.body)).not.toContain('1mz050nq');
      const stored = await server.app.operational.db.selectFrom('directory_people').select('resource').execute();
      expect(JSON.stringify(stored)).not.toContain('1mz050nq');

      const found = await scim(
        'GET',
        `/Users?filter=${encodeURIComponent('userName eq "test.user@okta.local"')}&startIndex=1&count=100`,
      );
      expect(found.status).toBe(200);
      expect(found.body).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
      expect(found.body.Resources[0].id).toBe(created.body.id);

      const patched = await scim('PATCH', `/Users/${created.body.id}`, scimFixture('okta-oin-deactivate-patch.json'));
      expect(patched.status).toBe(200);
      expect(patched.body.active).toBe(false);
      const read = await scim('GET', `/Users/${created.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ active: false, userName: 'test.user@okta.local' });
      expect(departuresOf('test.user@okta.local')).toHaveLength(1);
      expect(departuresOf('test.user@okta.local')[0]![1]).toMatchObject({ source: 'scim', status: 'deprovisioned' });

      // Okta pushes password changes as a path-less replace too: accepted, never kept or echoed.
      const password = await scim('PATCH', `/Users/${created.body.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', value: { password: 'Canary-pw-7f3a9c' } }],
      });
      expect(password.status).toBe(200);
      expect(JSON.stringify(password.body)).not.toContain('Canary-pw-7f3a9c');
      const rows = await server.app.operational.db.selectFrom('directory_people').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain('Canary-pw-7f3a9c');

      // Okta retries a request it got no answer to: the same request changes nothing.
      const retried = await scim('PATCH', `/Users/${created.body.id}`, scimFixture('okta-oin-deactivate-patch.json'));
      expect(retried.status).toBe(200);
      expect(departuresOf('test.user@okta.local')).toHaveLength(1);
    });

    it('Okta App Integration Wizard: GET the user, then a full PUT with active false', async () => {
      const body = JSON.parse(scimFixture('okta-create-user.json'));
      body.userName = 'wizard.user@okta.local';
      body.emails[0].value = 'wizard.user@okta.local';
      body.externalId = '00uwizard';
      const created = await scim('POST', '/Users', body);
      const got = await scim('GET', `/Users/${created.body.id}`);
      expect(got.status).toBe(200);
      const put = JSON.parse(scimFixture('okta-wizard-deactivate-put.json', { id: created.body.id }));
      put.userName = 'wizard.user@okta.local';
      put.emails[0].value = 'wizard.user@okta.local';
      const replaced = await scim('PUT', `/Users/${created.body.id}`, put);
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({
        active: false,
        displayName: 'Another User',
        name: { givenName: 'Another' },
      });
      expect(departuresOf('wizard.user@okta.local')).toHaveLength(1);
      const person = await directoryFor(server.app.operational.db, server.clock).find('wizard.user@okta.local');
      expect(person).toMatchObject({ status: 'deprovisioned', source: 'scim', displayName: 'Another User' });
    });

    it.each([
      ['entra-disable-string-false.json', 'without aadOptscim062020: "Replace" and the string "False"'],
      ['entra-disable-boolean-flag.json', 'with aadOptscim062020: "replace" and a boolean'],
      ['entra-disable-user.json', 'the tutorial\'s "Replace" with a boolean'],
    ])('Entra disable variant %s (%s) deactivates once and the user stays readable', async (fixture) => {
      const tag = fixture.replace(/\W/g, '');
      const created = await createEntraUser(tag);
      const email = created.body.emails[0].value.toLowerCase();
      const response = await scim('PATCH', `/Users/${created.body.id}`, scimFixture(fixture));
      expect(response.status).toBe(200);
      expect(response.body.active).toBe(false);
      const filtered = await scim(
        'GET',
        `/Users?filter=${encodeURIComponent(`userName eq "${created.body.userName}"`)}`,
      );
      expect(filtered.body.Resources[0]).toMatchObject({ id: created.body.id, active: false });
      expect(departuresOf(email)).toHaveLength(1);
    });

    it("Entra's first request, a filter on a random GUID, answers 200 with an empty ListResponse", async () => {
      for (const filter of ['userName eq "7b1e4c1a-1f9e-4a5b-9a8e-2c4a0f1f1d3e"', 'userName eq "non-existent user"']) {
        const response = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
        expect(response.status).toBe(200);
        expect(response.body).toEqual({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
          totalResults: 0,
          startIndex: 1,
          itemsPerPage: 0,
          Resources: [],
        });
      }
    });

    it("Entra's updates: a value path on emails, name.familyName, the manager as a bare id", async () => {
      const manager = await createEntraUser('mgr');
      const user = await createEntraUser('report');
      const updated = await scim('PATCH', `/Users/${user.body.id}`, scimFixture('entra-update-multi-valued.json'));
      expect(updated.status).toBe(200);
      expect(updated.body.emails).toEqual([{ primary: true, type: 'work', value: 'updatedEmail@microsoft.com' }]);
      expect(updated.body.name.familyName).toBe('updatedFamilyName');
      const withManager = await scim(
        'PATCH',
        `/Users/${user.body.id}`,
        scimFixture('entra-add-manager.json', { managerId: manager.body.id }),
      );
      expect(withManager.status).toBe(200);
      expect(withManager.body['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].manager).toBe(
        manager.body.id,
      );
      const person = await directoryFor(server.app.operational.db, server.clock).find(user.body.id);
      expect(person).toMatchObject({
        email: 'updatedemail@microsoft.com',
        managerEmail: manager.body.emails[0].value.toLowerCase(),
        status: 'active',
      });
    });

    it("Entra's groups: create, add a member, read without members, remove the member", async () => {
      const member = await createEntraUser('member');
      const group = await scim('POST', '/Groups', scimFixture('entra-create-group.json'));
      expect(group.status).toBe(201);
      expect(group.body).toMatchObject({ displayName: 'displayName', members: [] });
      const added = await scim(
        'PATCH',
        `/Groups/${group.body.id}`,
        scimFixture('entra-group-add-member.json', { memberId: member.body.id }),
      );
      expect(added.status).toBe(200);
      expect(added.body.members.map((m: { value: string }) => m.value)).toEqual([member.body.id]);
      const slim = await scim('GET', `/Groups/${group.body.id}?excludedAttributes=members`);
      expect(slim.body.members).toBeUndefined();
      expect(slim.body.displayName).toBe('displayName');
      const removed = await scim(
        'PATCH',
        `/Groups/${group.body.id}`,
        scimFixture('entra-group-remove-member.json', { memberId: member.body.id }),
      );
      expect(removed.body.members).toEqual([]);
    });

    it('DELETE answers 204, deprovisions once, and the resource is gone from SCIM but not from the directory', async () => {
      const created = await createEntraUser('deleted');
      const email = created.body.emails[0].value.toLowerCase();
      const deleted = await scim('DELETE', `/Users/${created.body.id}`);
      expect(deleted.status).toBe(204);
      expect((await scim('GET', `/Users/${created.body.id}`)).status).toBe(404);
      expect((await scim('DELETE', `/Users/${created.body.id}`)).status).toBe(404);
      expect(departuresOf(email)).toHaveLength(1);
      const person = await directoryFor(server.app.operational.db, server.clock).find(email);
      expect(person?.status).toBe('deprovisioned');
      // Through the source table, as reconciliation reads it: the deleted resource is a deprovisioned person.
      const source = createIdentitySource(
        'scim',
        {},
        { env: {}, cwd: '.', clock: server.clock, db: server.app.operational.db },
      );
      const listed = [];
      for await (const listedPerson of source.listPeople()) listed.push(listedPerson);
      expect(listed.find((candidate) => candidate.email === email)?.status).toBe('deprovisioned');
      expect(listed.some((candidate) => candidate.email === 'test.user@okta.local')).toBe(true);
    });

    it('provisions a person another source reported, and one a client deleted, instead of answering 409', async () => {
      const directory = directoryFor(server.app.operational.db, server.clock);
      await directory.apply(
        {
          signalId: 'hr-file:known',
          source: 'hr-file',
          email: 'known@example.com',
          status: 'active',
          at: '1970-01-01T00:00:00Z',
        },
        { team: 'platform' },
      );
      const known = await directory.find('known@example.com');
      // Okta and Entra look a user up before creating them: the HR file's person answers to their email.
      const looked = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "Known@example.com"')}`);
      expect(looked.body.Resources.map((resource: { id: string }) => resource.id)).toEqual([known?.id]);
      const body = JSON.parse(scimFixture('okta-create-user.json'));
      Object.assign(body, { userName: 'known@example.com', externalId: '00uknown' });
      body.emails[0].value = 'known@example.com';
      const adopted = await scim('POST', '/Users', body);
      expect(adopted.status).toBe(201);
      expect(adopted.body.id).toBe(known?.id);
      expect(await directory.find('known@example.com')).toMatchObject({
        userName: 'known@example.com',
        team: 'platform',
      });
      // Now SCIM-provisioned: a second POST is a conflict.
      expect((await scim('POST', '/Users', body)).status).toBe(409);

      await scim('DELETE', `/Users/${adopted.body.id}`);
      server.clock.advance(60_000);
      const again = await scim('POST', '/Users', body);
      expect(again.status).toBe(201);
      expect(again.body).toMatchObject({ id: known?.id, active: true });
      expect((await scim('GET', `/Users/${known?.id}`)).status).toBe(200);
    });

    it('reactivation then a second identical deactivation is a second departure', async () => {
      const created = await createEntraUser('again');
      const email = created.body.emails[0].value.toLowerCase();
      await scim('PATCH', `/Users/${created.body.id}`, scimFixture('entra-disable-user.json'));
      server.clock.advance(60_000);
      const back = await scim('PATCH', `/Users/${created.body.id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'Replace', path: 'active', value: 'True' }],
      });
      expect(back.body.active).toBe(true);
      server.clock.advance(60_000);
      await scim('PATCH', `/Users/${created.body.id}`, scimFixture('entra-disable-user.json'));
      expect(departuresOf(email)).toHaveLength(2);
    });
  });
});
