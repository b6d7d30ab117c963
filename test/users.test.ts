// The caller's account and other users (API.md §3.6–§3.11, §13a.4), black-box over HTTP.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { assertError, call, newPhone, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { uploadFile } from "./uploads.js";

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const ME = "/api/messenger/me";

const USER_KEYS = [
  "id",
  "displayName",
  "avatarFileId",
  "telephoneNumber",
  "telephoneNumberHashed",
  "emailAddress",
  "verified",
  "createdAt",
  "modifiedAt",
  "isBot",
  "deleted",
  "shortDescription",
  "longDescription",
  "coverFileId",
];

function assertUserShape(u: any): void {
  for (const k of USER_KEYS) assert.ok(k in u, `user has ${k}`);
  assert.ok(Number.isInteger(u.id) && u.id > 0);
  assert.equal(typeof u.verified, "boolean");
  assert.equal(typeof u.isBot, "boolean");
  assert.equal(typeof u.deleted, "boolean");
  assert.ok(Number.isInteger(u.avatarFileId));
  assert.ok(Number.isInteger(u.createdAt) && u.createdAt > 1_600_000_000_000, "createdAt is epoch ms");
  assert.ok(Number.isInteger(u.modifiedAt) && u.modifiedAt >= u.createdAt, "modifiedAt is epoch ms");
  assert.equal("verificationCode" in u, false);
  assert.equal("webhookUrl" in u, false);
}

const getMe = async (server: TestServer, token: string) => {
  const res = await call(server, "GET", ME, { token });
  assert.equal(res.status, 200, res.text);
  return res.body.data.user;
};

/** `owner` uploads `others`' phone hashes: each becomes `owner`'s contact. */
async function addContacts(server: TestServer, owner: SignedUp, ...others: SignedUp[]): Promise<void> {
  const res = await call(server, "POST", "/api/messenger/contacts", { token: owner.token, body: { contacts: others.map((o) => sha256(o.phone)) } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.data.count, others.length);
}

/** Events published since `from` whose payload is USER_UPDATE of `userId`. */
const userUpdates = (server: TestServer, from: number, userId: number) =>
  server.events.events.slice(from).filter((e) => e.data.type === "USER_UPDATE" && (e.data.user as any)?.id === userId);

describe("users (contacts-only mode)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  describe("GET /me", () => {
    it("returns the caller as a full User model", async () => {
      const a = await signUp(server);
      const res = await call(server, "GET", ME, { token: a.token });
      assert.equal(res.status, 200);
      assert.equal(res.body.status, "success");
      const u = res.body.data.user;
      assertUserShape(u);
      assert.equal(u.id, a.user.id);
      assert.equal(u.telephoneNumber, a.phone);
      assert.equal(u.telephoneNumberHashed, sha256(a.phone));
      assert.equal(u.verified, true);
      assert.equal(u.deleted, false);
      assert.equal(u.isBot, false);
      assert.equal(u.displayName, null);
      assert.equal(u.avatarFileId, 0);
    });

    it("needs a token", async () => {
      assertError(await call(server, "GET", ME), 401);
      assertError(await call(server, "GET", ME, { token: "nope" }), 401);
    });
  });

  describe("PUT /me", () => {
    it("updates displayName, avatarFileId and emailAddress and reads them back", async () => {
      const a = await signUp(server);
      const before = await getMe(server, a.token);
      const email = `a-${randomBytes(4).toString("hex")}@example.com`;
      const avatar = await uploadFile(server, a.token);
      const res = await call(server, "PUT", ME, { token: a.token, body: { displayName: "Ana Anić", avatarFileId: avatar.id, emailAddress: email } });
      assert.equal(res.status, 200, res.text);
      const u = res.body.data.user;
      assertUserShape(u);
      assert.equal(u.displayName, "Ana Anić");
      assert.equal(u.avatarFileId, avatar.id);
      assert.equal(u.emailAddress, email);
      assert.ok(u.modifiedAt >= before.modifiedAt);
      assert.equal(u.telephoneNumber, a.phone, "number untouched");
      const stored = await getMe(server, a.token);
      assert.deepEqual(stored, u);
    });

    it("keeps avatarFileId (and other fields) when they are omitted", async () => {
      const a = await signUp(server);
      const email = `k-${randomBytes(4).toString("hex")}@example.com`;
      const avatar = await uploadFile(server, a.token);
      assert.equal((await call(server, "PUT", ME, { token: a.token, body: { displayName: "First", avatarFileId: avatar.id, emailAddress: email } })).status, 200);
      const res = await call(server, "PUT", ME, { token: a.token, body: { displayName: "Second" } });
      assert.equal(res.status, 200);
      assert.equal(res.body.data.user.avatarFileId, avatar.id);
      assert.equal(res.body.data.user.emailAddress, email);
      const stored = await getMe(server, a.token);
      assert.equal(stored.displayName, "Second");
      assert.equal(stored.avatarFileId, avatar.id);
      assert.equal(stored.emailAddress, email);

      const onlyAvatar = await call(server, "PUT", ME, { token: a.token, body: { avatarFileId: 0 } });
      assert.equal(onlyAvatar.status, 200);
      assert.equal(onlyAvatar.body.data.user.avatarFileId, 0);
      assert.equal(onlyAvatar.body.data.user.displayName, "Second");
    });

    it("an empty body changes nothing", async () => {
      const a = await signUp(server, { displayName: "Still" });
      const before = await getMe(server, a.token);
      const res = await call(server, "PUT", ME, { token: a.token, body: {} });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data.user, before);
    });

    it("refuses an email used by another user with 400 and writes nothing", async () => {
      const a = await signUp(server);
      const b = await signUp(server, { displayName: "Bea" });
      const email = `taken-${randomBytes(4).toString("hex")}@example.com`;
      assert.equal((await call(server, "PUT", ME, { token: a.token, body: { emailAddress: email } })).status, 200);
      const res = await call(server, "PUT", ME, { token: b.token, body: { emailAddress: email, displayName: "Changed" } });
      assertError(res, 400);
      const stored = await getMe(server, b.token);
      assert.equal(stored.emailAddress, null);
      assert.equal(stored.displayName, "Bea", "no partial write");
      // Setting one's own email again is fine.
      assert.equal((await call(server, "PUT", ME, { token: a.token, body: { emailAddress: email } })).status, 200);
      assert.equal((await getMe(server, a.token)).emailAddress, email);
    });

    it("refuses a telephoneNumber used by another user with 400", async () => {
      const a = await signUp(server);
      const b = await signUp(server, { displayName: "Bob" });
      const res = await call(server, "PUT", ME, { token: b.token, body: { telephoneNumber: a.phone, displayName: "Changed" } });
      assertError(res, 400);
      const stored = await getMe(server, b.token);
      assert.equal(stored.telephoneNumber, b.phone);
      assert.equal(stored.displayName, "Bob", "no partial write");
    });

    it("refuses a telephoneNumber of a not yet verified sign-up with 400 too (it is taken)", async () => {
      const phone = newPhone();
      assert.equal((await call(server, "POST", "/api/messenger/auth", { body: { telephoneNumber: phone, deviceId: `d-${randomBytes(4).toString("hex")}` } })).status, 200);
      const b = await signUp(server);
      const res = await call(server, "PUT", ME, { token: b.token, body: { telephoneNumber: phone } });
      assertError(res, 400);
      assert.equal((await getMe(server, b.token)).telephoneNumber, b.phone);
    });

    it("a different, unused number needs verification: 403 and nothing changes", async () => {
      const a = await signUp(server, { displayName: "Ann" });
      const fresh = newPhone();
      const res = await call(server, "PUT", ME, { token: a.token, body: { telephoneNumber: fresh, displayName: "Changed" } });
      assertError(res, 403);
      const stored = await getMe(server, a.token);
      assert.equal(stored.telephoneNumber, a.phone);
      assert.equal(stored.telephoneNumberHashed, sha256(a.phone));
      assert.equal(stored.displayName, "Ann", "no partial write");
      // The number was not reserved either: someone else can sign up with it.
      const other = await signUp(server, { phone: fresh });
      assert.equal(other.user.telephoneNumber, fresh);
    });

    it("the same number is a 200 no-op; with other fields only they change", async () => {
      const a = await signUp(server, { displayName: "Same" });
      const before = await getMe(server, a.token);
      const res = await call(server, "PUT", ME, { token: a.token, body: { telephoneNumber: a.phone } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data.user, before);
      const both = await call(server, "PUT", ME, { token: a.token, body: { telephoneNumber: a.phone, displayName: "Other" } });
      assert.equal(both.status, 200);
      assert.equal(both.body.data.user.displayName, "Other");
      assert.equal(both.body.data.user.telephoneNumber, a.phone);
      assert.equal(both.body.data.user.telephoneNumberHashed, sha256(a.phone));
    });

    it("wrong types are 400 naming the field, and nothing is written", async () => {
      const a = await signUp(server, { displayName: "Typed" });
      const before = await getMe(server, a.token);
      const cases: Array<[string, unknown]> = [
        ["displayName", 42],
        ["displayName", null],
        ["emailAddress", true],
        ["emailAddress", {}],
        ["telephoneNumber", []],
        ["telephoneNumber", 385911234567],
        ["avatarFileId", "5"],
        ["avatarFileId", 1.5],
        ["avatarFileId", null],
        ["avatarFileId", -1],
        ["avatarFileId", 1e20],
        ["avatarFileId", 2 ** 53],
      ];
      for (const [field, value] of cases) {
        const res = await call(server, "PUT", ME, { token: a.token, body: { displayName: "Partial", [field]: value } });
        assertError(res, 400, field);
      }
      assert.deepEqual(await getMe(server, a.token), before);
    });

    it("needs a token", async () => {
      assertError(await call(server, "PUT", ME, { body: { displayName: "x" } }), 401);
    });
  });

  describe("USER_UPDATE events", () => {
    it("PUT /me announces the new profile to the caller and its contacts only", async () => {
      const a = await signUp(server);
      const b = await signUp(server);
      const stranger = await signUp(server);
      await addContacts(server, a, b);

      const from = server.events.events.length;
      const res = await call(server, "PUT", ME, { token: a.token, body: { displayName: "Announced" } });
      assert.equal(res.status, 200);
      const events = userUpdates(server, from, a.user.id);
      assert.ok(
        events.every((e) => !e.allUsers),
        "not broadcast in contacts-only mode",
      );
      const heardBy = (u: SignedUp) => events.filter((e) => e.userIds.includes(u.user.id));
      assert.equal(heardBy(a).length, 1, "the caller's other devices hear it");
      assert.deepEqual(heardBy(a)[0].data.user, res.body.data.user);
      assert.equal(heardBy(b).length, 1, "the caller's contact hears it");
      assert.equal((heardBy(b)[0].data.user as any).displayName, "Announced");
      // b does not have a in its own phone book, so a's number is not b's to see.
      assert.equal((heardBy(b)[0].data.user as any).telephoneNumber, null);
      assert.equal(heardBy(stranger).length, 0, "an unrelated user does not");
    });

    it("a user who has the caller in its phone book hears the caller's change", async () => {
      const a = await signUp(server);
      const b = await signUp(server);
      await addContacts(server, a, b); // a lists b
      const from = server.events.events.length;
      const avatar = await uploadFile(server, b.token);
      assert.equal((await call(server, "PUT", ME, { token: b.token, body: { avatarFileId: avatar.id } })).status, 200);
      const [e] = userUpdates(server, from, b.user.id);
      assert.ok(e, "an event was published");
      assert.ok(e.userIds.includes(a.user.id));
    });

    it("DELETE /me announces the deleted user to its contacts", async () => {
      const a = await signUp(server);
      const b = await signUp(server);
      await addContacts(server, a, b);
      const from = server.events.events.length;
      assert.equal((await call(server, "DELETE", ME, { token: b.token })).status, 200);
      const [e] = userUpdates(server, from, b.user.id);
      assert.ok(e, "an event was published");
      assert.ok(e.userIds.includes(a.user.id));
      assert.equal((e.data.user as any).deleted, true);
      assert.equal((e.data.user as any).displayName, `Deleted user ${b.user.id}`);
    });

    it("a refused or empty update announces nothing", async () => {
      const a = await signUp(server);
      const b = await signUp(server);
      const from = server.events.events.length;
      assertError(await call(server, "PUT", ME, { token: b.token, body: { telephoneNumber: a.phone } }), 400);
      assertError(await call(server, "PUT", ME, { token: b.token, body: { avatarFileId: "1" } }), 400);
      assertError(await call(server, "PUT", ME, { token: b.token, body: { telephoneNumber: newPhone() } }), 403);
      assert.equal(userUpdates(server, from, b.user.id).length, 0);
    });
  });

  describe("GET /users/:id", () => {
    it("returns the caller itself", async () => {
      const a = await signUp(server, { displayName: "Self" });
      const res = await call(server, "GET", `/api/messenger/users/${a.user.id}`, { token: a.token });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data.user, await getMe(server, a.token));
    });

    it("returns a contact, and 404 for a non-contact (contacts are one-directional)", async () => {
      const a = await signUp(server);
      const b = await signUp(server, { displayName: "Contact" });
      const c = await signUp(server);
      await addContacts(server, a, b);
      const ok = await call(server, "GET", `/api/messenger/users/${b.user.id}`, { token: a.token });
      assert.equal(ok.status, 200);
      assertUserShape(ok.body.data.user);
      assert.equal(ok.body.data.user.id, b.user.id);
      assert.equal(ok.body.data.user.displayName, "Contact");
      assertError(await call(server, "GET", `/api/messenger/users/${c.user.id}`, { token: a.token }), 404);
      assertError(await call(server, "GET", `/api/messenger/users/${a.user.id}`, { token: b.token }), 404);
    });

    it("unknown, non-numeric and non-positive ids are 404", async () => {
      const a = await signUp(server);
      for (const id of ["123456987", "abc", "0", "-1", "1.5", "99999999999999999999999"]) {
        assertError(await call(server, "GET", `/api/messenger/users/${id}`, { token: a.token }), 404);
      }
    });
  });

  describe("DELETE /me", () => {
    it("answers deleted:true, kills the token and removes the contacts in both directions", async () => {
      const a = await signUp(server, { displayName: "Stays" });
      const b = await signUp(server, { displayName: "Leaves" });
      await addContacts(server, a, b);
      await addContacts(server, b, a);
      const listed = await call(server, "GET", "/api/messenger/contacts", { token: a.token });
      assert.deepEqual(
        listed.body.data.list.map((u: any) => u.id),
        [b.user.id],
      );

      const res = await call(server, "DELETE", ME, { token: b.token });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: "success", data: { deleted: true } });

      assertError(await call(server, "GET", ME, { token: b.token }), 401);
      assertError(await call(server, "PUT", ME, { token: b.token, body: { displayName: "Back" } }), 401);

      const after = await call(server, "GET", "/api/messenger/contacts", { token: a.token });
      assert.equal(after.status, 200);
      assert.deepEqual(after.body.data.list, []);
      assert.equal(after.body.data.count, 0);
      assertError(await call(server, "GET", `/api/messenger/users/${b.user.id}`, { token: a.token }), 404);

      // The number and its hash are gone: the old hash matches nobody, and the number can
      // start a brand-new account.
      const again = await call(server, "POST", "/api/messenger/contacts", { token: a.token, body: { contacts: [sha256(b.phone)] } });
      assert.equal(again.status, 200);
      assert.equal(again.body.data.count, 0);
      const reborn = await signUp(server, { phone: b.phone });
      assert.notEqual(reborn.user.id, b.user.id);
      assert.equal(reborn.user.deleted, false);
    });

    it("every device of the user loses its token", async () => {
      const phone = newPhone();
      const one = await signUp(server, { phone });
      const two = await signUp(server, { phone, headers: { "device-type": "browser" } });
      assert.equal(two.user.id, one.user.id);
      assert.equal((await call(server, "GET", ME, { token: one.token })).status, 200);
      assert.equal((await call(server, "DELETE", ME, { token: two.token })).status, 200);
      assertError(await call(server, "GET", ME, { token: one.token }), 401);
      assertError(await call(server, "GET", ME, { token: two.token }), 401);
    });
  });

  describe("GET /users/sync/:timestamp", () => {
    it("a non-numeric timestamp or page is 400 naming it", async () => {
      const a = await signUp(server);
      assertError(await call(server, "GET", "/api/messenger/users/sync/a54dsa5d4sa5d4as5", { token: a.token }), 400, "timestamp");
      assertError(await call(server, "GET", "/api/messenger/users/sync/-5", { token: a.token }), 400, "timestamp");
      assertError(await call(server, "GET", "/api/messenger/users/sync/0?page=abc", { token: a.token }), 400, "page");
      assertError(await call(server, "GET", "/api/messenger/users/sync/0?page=1x", { token: a.token }), 400, "page");
    });

    it("returns the caller and its contacts (list and users alike), nobody else", async () => {
      const a = await signUp(server, { displayName: "Syncer" });
      const b = await signUp(server, { displayName: "Friend" });
      const stranger = await signUp(server, { displayName: "Stranger" });
      await addContacts(server, a, b);
      const res = await call(server, "GET", "/api/messenger/users/sync/0", { token: a.token });
      assert.equal(res.status, 200);
      const d = res.body.data;
      assert.deepEqual(d.users, d.list);
      assert.equal(d.limit, 100);
      assert.equal(d.hasNext, false);
      assert.equal(d.count, d.list.length);
      const ids = d.list.map((u: any) => u.id).sort((x: number, y: number) => x - y);
      assert.deepEqual(
        ids,
        [a.user.id, b.user.id].sort((x, y) => x - y),
      );
      assert.ok(!ids.includes(stranger.user.id));
      for (const u of d.list) assertUserShape(u);
      for (let i = 1; i < d.list.length; i++) assert.ok(d.list[i - 1].modifiedAt <= d.list[i].modifiedAt, "oldest change first");
      // page 1 explicitly is the same; a page past the end is empty
      const p1 = await call(server, "GET", "/api/messenger/users/sync/0?page=1", { token: a.token });
      assert.deepEqual(p1.body.data.list, d.list);
      const p2 = await call(server, "GET", "/api/messenger/users/sync/0?page=2", { token: a.token });
      assert.equal(p2.status, 200);
      assert.deepEqual(p2.body.data.list, []);
      assert.equal(p2.body.data.count, d.count);
      assert.equal(p2.body.data.hasNext, false);
    });

    it("returns only users modified strictly after the timestamp", async () => {
      const a = await signUp(server);
      const b = await signUp(server);
      await addContacts(server, a, b);
      const renamed = await call(server, "PUT", ME, { token: b.token, body: { displayName: "Renamed" } });
      const t = renamed.body.data.user.modifiedAt;
      const me = await getMe(server, a.token);
      const ids = async (ts: number) => (await call(server, "GET", `/api/messenger/users/sync/${ts}`, { token: a.token })).body.data.list.map((u: any) => u.id);
      assert.ok((await ids(t - 1)).includes(b.user.id));
      assert.ok(!(await ids(t)).includes(b.user.id));
      assert.ok(!(await ids(Math.max(t, me.modifiedAt))).includes(a.user.id));
      const future = await call(server, "GET", `/api/messenger/users/sync/${Math.max(t, me.modifiedAt) + 1}`, { token: a.token });
      assert.deepEqual(future.body.data.list, []);
      assert.equal(future.body.data.count, 0);
      assert.equal(future.body.data.hasNext, false);
    });
  });

  describe("GET /me/settings", () => {
    it("returns the caller's settings rows (none yet)", async () => {
      const a = await signUp(server);
      const res = await call(server, "GET", "/api/messenger/me/settings", { token: a.token });
      assert.equal(res.status, 200);
      assert.ok(Array.isArray(res.body.data.settings));
      assert.deepEqual(res.body.data.settings, []);
      assertError(await call(server, "GET", "/api/messenger/me/settings"), 401);
    });

    it("returns only the caller's rows, raw, with ISO times (§1.4)", async () => {
      const a = await signUp(server);
      const b = await signUp(server);
      // No endpoint writes settings yet (mute/pin come with rooms): rows are put in place directly.
      const at = Date.UTC(2024, 0, 2, 3, 4, 5, 6);
      await server.ctx.db
        .insertInto("userSettings")
        .values([
          { userId: a.user.id, key: "mute_7", value: "true", createdAt: at, modifiedAt: at },
          { userId: b.user.id, key: "pin_8", value: "true", createdAt: at, modifiedAt: at },
        ])
        .execute();
      const res = await call(server, "GET", "/api/messenger/me/settings", { token: a.token });
      assert.equal(res.status, 200);
      const rows = res.body.data.settings;
      assert.equal(rows.length, 1);
      const [row] = rows;
      assert.ok(Number.isInteger(row.id));
      assert.equal(row.userId, a.user.id);
      assert.equal(row.key, "mute_7");
      assert.equal(row.value, "true");
      assert.equal(row.createdAt, "2024-01-02T03:04:05.006Z");
      assert.equal(row.modifiedAt, "2024-01-02T03:04:05.006Z");
    });
  });
});

describe("users (team mode)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
  });
  after(() => server.close());

  it("GET /users/:id returns any user", async () => {
    const a = await signUp(server);
    const b = await signUp(server, { displayName: "Anyone" });
    const res = await call(server, "GET", `/api/messenger/users/${b.user.id}`, { token: a.token });
    assert.equal(res.status, 200);
    assertUserShape(res.body.data.user);
    assert.equal(res.body.data.user.id, b.user.id);
    assert.equal(res.body.data.user.displayName, "Anyone");
    assertError(await call(server, "GET", "/api/messenger/users/123456987", { token: a.token }), 404);
    assertError(await call(server, "GET", "/api/messenger/users/abc", { token: a.token }), 404);
  });

  it("PUT /me is announced to all users", async () => {
    const a = await signUp(server);
    const from = server.events.events.length;
    const res = await call(server, "PUT", ME, { token: a.token, body: { displayName: "Broadcast" } });
    assert.equal(res.status, 200);
    const events = userUpdates(server, from, a.user.id);
    assert.equal(events.length, 1);
    assert.equal(events[0].allUsers, true);
    assert.deepEqual(events[0].data.user, res.body.data.user);
  });

  it("a deleted user stays readable as 'Deleted user <id>' without number, and leaves the directory", async () => {
    const a = await signUp(server);
    const email = `gone-${randomBytes(4).toString("hex")}@example.com`;
    const b = await signUp(server, { displayName: "Gone Soon" });
    const avatar = await uploadFile(server, b.token);
    assert.equal((await call(server, "PUT", ME, { token: b.token, body: { emailAddress: email, avatarFileId: avatar.id } })).status, 200);
    const before = await call(server, "GET", "/api/messenger/contacts", { token: a.token });
    assert.ok(before.body.data.list.some((u: any) => u.id === b.user.id));

    const del = await call(server, "DELETE", ME, { token: b.token });
    assert.deepEqual(del.body, { status: "success", data: { deleted: true } });
    assertError(await call(server, "GET", ME, { token: b.token }), 401);

    const res = await call(server, "GET", `/api/messenger/users/${b.user.id}`, { token: a.token });
    assert.equal(res.status, 200);
    const u = res.body.data.user;
    assertUserShape(u);
    assert.equal(u.deleted, true);
    assert.equal(u.displayName, `Deleted user ${b.user.id}`);
    assert.equal(u.telephoneNumber, null);
    assert.equal(u.telephoneNumberHashed, null);
    assert.equal(u.emailAddress, null);
    assert.equal(u.avatarFileId, 0);

    const afterList = await call(server, "GET", "/api/messenger/contacts", { token: a.token });
    assert.ok(!afterList.body.data.list.some((x: any) => x.id === b.user.id), "deleted users leave the directory");

    // Sync tells the other clients about the deletion.
    const sync = await call(server, "GET", `/api/messenger/users/sync/${u.modifiedAt - 1}`, { token: a.token });
    const synced = sync.body.data.list.find((x: any) => x.id === b.user.id);
    assert.ok(synced, "the deletion is synced");
    assert.equal(synced.deleted, true);

    // The freed e-mail can be used by someone else.
    assert.equal((await call(server, "PUT", ME, { token: a.token, body: { emailAddress: email } })).status, 200);
  });

  it("users sync returns everyone verified, the caller included, and pages by 100", async () => {
    const t0 = (await getMe(server, (await signUp(server)).token)).modifiedAt;
    const unverifiedPhone = newPhone();
    await call(server, "POST", "/api/messenger/auth", { body: { telephoneNumber: unverifiedPhone, deviceId: `u-${randomBytes(4).toString("hex")}` } });
    const created: SignedUp[] = [];
    for (let i = 0; i < 11; i++) created.push(...(await Promise.all(Array.from({ length: 10 }, () => signUp(server)))));
    const me = created[0];

    const first = await call(server, "GET", `/api/messenger/users/sync/${t0}`, { token: me.token });
    assert.equal(first.status, 200);
    const d1 = first.body.data;
    assert.equal(d1.limit, 100);
    assert.ok(d1.count >= created.length, `count ${d1.count}`);
    assert.equal(d1.list.length, 100);
    assert.deepEqual(d1.users, d1.list);
    assert.equal(d1.hasNext, true);

    const all: any[] = [...d1.list];
    for (let page = 2; all.length < d1.count; page++) {
      const res = await call(server, "GET", `/api/messenger/users/sync/${t0}?page=${page}`, { token: me.token });
      assert.equal(res.status, 200);
      assert.ok(res.body.data.list.length > 0, "no empty page before the end");
      assert.equal(res.body.data.hasNext, res.body.data.count > page * 100);
      all.push(...res.body.data.list);
    }
    const ids = all.map((u) => u.id);
    assert.equal(new Set(ids).size, ids.length, "no repeats across pages");
    for (const c of created) assert.ok(ids.includes(c.user.id), `user ${c.user.id} synced`);
    assert.ok(ids.includes(me.user.id), "the caller itself is included");
    assert.ok(
      all.every((u) => u.verified === true),
      "only verified users",
    );
    assert.ok(!all.some((u) => u.telephoneNumber === unverifiedPhone));
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].modifiedAt <= all[i].modifiedAt, "oldest change first across pages");
  });
});
