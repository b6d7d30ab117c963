// Phone-book matching and the contact directory (API.md §3.4, §3.5, §14 "05_messenger_contacts").
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { assertError, call, newPhone, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const randomHash = () => randomBytes(32).toString("hex");
const CONTACTS = "/api/messenger/contacts";
const MINUTE = 60 * 1000;

const upload = (server: TestServer, who: SignedUp, contacts: unknown, isLastPage?: boolean) =>
  call(server, "POST", CONTACTS, { token: who.token, body: isLastPage === undefined ? { contacts } : { contacts, isLastPage } });

async function listContacts(server: TestServer, who: SignedUp, query = ""): Promise<any> {
  const res = await call(server, "GET", CONTACTS + query, { token: who.token });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.status, "success");
  return res.body.data;
}

const idsOf = (list: any[]) => list.map((u) => u.id);
const sortedIds = (list: any[]) => idsOf(list).sort((a, b) => a - b);

/** Signs up `n` users (10 at a time), the i-th named `name(i)` (undefined = no name). */
async function signUpMany(server: TestServer, n: number, name: (i: number) => string | undefined): Promise<SignedUp[]> {
  const out: SignedUp[] = [];
  for (let i = 0; i < n; i += 10) {
    const batch = Array.from({ length: Math.min(10, n - i) }, (_, k) => signUp(server, { displayName: name(i + k) }));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/** The directory order of §3.5: displayName ascending with nulls first, then id. */
function directoryOrder(users: Array<{ id: number; displayName: string | null }>): number[] {
  return [...users]
    .sort((a, b) => {
      if (a.displayName !== b.displayName) {
        if (a.displayName === null) return -1;
        if (b.displayName === null) return 1;
        return a.displayName < b.displayName ? -1 : 1;
      }
      return a.id - b.id;
    })
    .map((u) => u.id);
}

describe("POST /contacts", () => {
  let server: TestServer;
  let me: SignedUp;
  before(async () => {
    server = await startTestServer();
    me = await signUp(server);
  });
  after(() => server.close());

  it("contacts must be a string or an array of strings (400 otherwise, naming the field)", async () => {
    assertError(await call(server, "POST", CONTACTS, { token: me.token, body: {} }), 400, "contacts");
    assertError(await call(server, "POST", CONTACTS, { token: me.token, body: { isLastPage: true } }), 400, "contacts");
    for (const bad of [true, false, 42, 0, [42], ["42", 42], [null], null, {}, { 0: "42" }, [["42"]]]) {
      assertError(await upload(server, me, bad), 400, "contacts");
    }
    for (const good of [["42"], "42"]) {
      const res = await upload(server, me, good);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { status: "success", data: { list: [], count: 0, limit: 500 } });
    }
  });

  it("contacts must hold at least one hash", async () => {
    for (const empty of [[], "", " , ,", [""], ["  "]]) assertError(await upload(server, me, empty), 400, "contacts");
  });

  it("contacts may hold at most 500 hashes, as an array and as a comma-separated string", async () => {
    const hashes = Array.from({ length: 501 }, randomHash);
    assertError(await upload(server, me, hashes), 400, "contacts");
    assertError(await upload(server, me, hashes.join(",")), 400, "contacts");
    assertError(await upload(server, me, hashes.join(", ")), 400, "contacts");
    const ok = await upload(server, me, hashes.slice(0, 500));
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.data.limit, 500);
    assert.equal(ok.body.data.count, 0);
    assert.equal((await upload(server, me, hashes.slice(1).join(","))).status, 200);
  });

  it("isLastPage must be a boolean", async () => {
    for (const bad of ["true", 1, null, [], {}]) assertError(await upload(server, me, ["42"], bad as never), 400, "isLastPage");
    assert.equal((await upload(server, me, ["42"], true)).status, 200);
    assert.equal((await upload(server, me, ["42"], false)).status, 200);
  });

  it("needs a token", async () => {
    assertError(await call(server, "POST", CONTACTS, { body: { contacts: ["42"] } }), 401);
  });

  it("matches only verified, non-deleted users other than the caller, by the hash of the number as registered", async () => {
    const a = await signUp(server);
    const v1 = await signUp(server, { displayName: "Vera" });
    const v2 = await signUp(server, { displayName: "Vid" });
    const gone = await signUp(server, { displayName: "Gone" });
    const unverifiedPhone = newPhone();
    const pending = await call(server, "POST", "/api/messenger/auth", { body: { telephoneNumber: unverifiedPhone, deviceId: `p-${randomBytes(4).toString("hex")}` } });
    assert.equal(pending.status, 200);
    assert.equal(pending.body.data.user.telephoneNumberHashed, sha256(unverifiedPhone), "hash = lowercase hex SHA-256 of the number");
    assert.equal((await call(server, "DELETE", "/api/messenger/me", { token: gone.token })).status, 200);

    const res = await upload(server, a, [sha256(v1.phone), sha256(v2.phone), sha256(unverifiedPhone), sha256(gone.phone), sha256(a.phone), randomHash()]);
    assert.equal(res.status, 200, res.text);
    const d = res.body.data;
    assert.equal(d.limit, 500);
    assert.equal(d.count, 2);
    assert.equal(d.list.length, 2);
    assert.deepEqual(
      sortedIds(d.list),
      [v1.user.id, v2.user.id].sort((x, y) => x - y),
    );
    for (const u of d.list) {
      assert.equal(u.verified, true);
      assert.equal(u.deleted, false);
      assert.equal(u.telephoneNumberHashed, sha256(u.telephoneNumber));
    }
    assert.ok(!d.list.some((u: any) => u.id === pending.body.data.user.id), "no unverified user");

    // The contacts exist as soon as the answer is there.
    const listed = await listContacts(server, a);
    assert.deepEqual(sortedIds(listed.list), sortedIds(d.list));
    assert.equal(listed.count, 2);
  });

  it("the server does not normalise numbers: another spelling of the number does not match", async () => {
    const a = await signUp(server);
    const b = await signUp(server);
    const variants = [b.phone.slice(1), `00${b.phone.slice(1)}`, `${b.phone.slice(0, 4)} ${b.phone.slice(4)}`];
    const res = await upload(server, a, [...variants.map(sha256), sha256(b.phone).toUpperCase()]);
    assert.equal(res.status, 200);
    assert.equal(res.body.data.count, 0);
  });

  it("the string form is split on commas and trimmed; duplicates count once", async () => {
    const a = await signUp(server);
    const b = await signUp(server);
    const c = await signUp(server);
    const res = await upload(server, a, ` ${sha256(b.phone)} ,,${sha256(c.phone)}, ${sha256(b.phone)},`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.count, 2);
    assert.deepEqual(
      sortedIds(res.body.data.list),
      [b.user.id, c.user.id].sort((x, y) => x - y),
    );
    const dup = await upload(server, a, [sha256(b.phone), sha256(b.phone)]);
    assert.equal(dup.body.data.count, 1);
    // Uploading again refreshes instead of duplicating.
    const listed = await listContacts(server, a);
    assert.deepEqual(
      sortedIds(listed.list),
      [b.user.id, c.user.id].sort((x, y) => x - y),
    );
    assert.equal(listed.count, 2);
  });

  it("finds users among 500 hashes", async () => {
    const a = await signUp(server);
    const b = await signUp(server);
    const hashes = Array.from({ length: 499 }, randomHash);
    hashes.splice(250, 0, sha256(b.phone));
    const res = await upload(server, a, hashes);
    assert.equal(res.status, 200);
    assert.deepEqual(idsOf(res.body.data.list), [b.user.id]);
  });

  it("contacts are one-directional: the matched user does not get the caller", async () => {
    const a = await signUp(server);
    const b = await signUp(server);
    await upload(server, a, [sha256(b.phone)]);
    assert.deepEqual(idsOf((await listContacts(server, a)).list), [b.user.id]);
    assert.deepEqual((await listContacts(server, b)).list, []);
  });

  describe("isLastPage pruning", () => {
    /** Moves `owner`'s contact rows of `contact` back in time (stands in for the passing of time). */
    const age = (owner: SignedUp, contact: SignedUp, ms: number) =>
      server.ctx.db
        .updateTable("contacts")
        .set({ modifiedAt: Date.now() - ms })
        .where("userId", "=", owner.user.id)
        .where("contactId", "=", contact.user.id)
        .execute();

    it("a last page drops contacts not confirmed for 10 minutes, keeps the rest", async () => {
      const a = await signUp(server);
      const [stale, fresh, reconfirmed, recent] = await Promise.all([signUp(server), signUp(server), signUp(server), signUp(server)]);
      const all = [stale, fresh, reconfirmed, recent];
      const first = await upload(
        server,
        a,
        all.map((u) => sha256(u.phone)),
      );
      assert.equal(first.body.data.count, 4);
      await age(a, stale, 11 * MINUTE);
      await age(a, reconfirmed, 11 * MINUTE);
      await age(a, recent, 5 * MINUTE);

      // A page that is not the last prunes nothing.
      const mid = await upload(server, a, [sha256(fresh.phone)], false);
      assert.equal(mid.status, 200);
      assert.equal((await listContacts(server, a)).count, 4);

      const last = await upload(server, a, [sha256(reconfirmed.phone)], true);
      assert.equal(last.status, 200);
      assert.deepEqual(idsOf(last.body.data.list), [reconfirmed.user.id]);
      const listed = await listContacts(server, a);
      assert.deepEqual(
        sortedIds(listed.list),
        [fresh, reconfirmed, recent].map((u) => u.user.id).sort((x, y) => x - y),
      );
      assert.equal(listed.count, 3);
    });

    it("a last page that matches nobody still prunes, and only the caller's own contacts", async () => {
      const a = await signUp(server);
      const other = await signUp(server);
      const b = await signUp(server);
      await upload(server, a, [sha256(b.phone)]);
      await upload(server, other, [sha256(b.phone)]);
      await age(a, b, 11 * MINUTE);
      await age(other, b, 11 * MINUTE);
      const res = await upload(server, a, [randomHash()], true);
      assert.equal(res.status, 200);
      assert.equal(res.body.data.count, 0);
      assert.deepEqual((await listContacts(server, a)).list, []);
      assert.deepEqual(idsOf((await listContacts(server, other)).list), [b.user.id], "other users' contacts untouched");
    });
  });
});

describe("GET /contacts (contacts-only mode)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("works without any params", async () => {
    const a = await signUp(server);
    const d = await listContacts(server, a);
    assert.deepEqual(d, { list: [], count: 0, limit: 20, nextCursor: null });
  });

  it("needs a token", async () => {
    assertError(await call(server, "GET", CONTACTS), 401);
  });

  it("shows only the caller's contacts, without blockedBy", async () => {
    const a = await signUp(server);
    const b = await signUp(server, { displayName: "Bruno" });
    await signUp(server, { displayName: "Stranger" });
    await upload(server, a, [sha256(b.phone)]);
    const d = await listContacts(server, a);
    assert.deepEqual(idsOf(d.list), [b.user.id]);
    assert.equal(d.count, 1);
    assert.equal(d.limit, 20);
    assert.equal(d.nextCursor, null);
    assert.equal(d.list[0].displayName, "Bruno");
    assert.equal("blockedBy" in d.list[0], false);
  });

  it("filters by keyword: case-insensitive substring of the display name", async () => {
    const a = await signUp(server);
    const users = await Promise.all(
      ["Marko Markić", "Ana Horvat", "Damir Mark", "Petra", "Tom [x]", "Star*Lord?", undefined].map((displayName) => signUp(server, { displayName })),
    );
    await upload(
      server,
      a,
      users.map((u) => sha256(u.phone)),
    );
    const names = async (keyword: string) => {
      const d = await listContacts(server, a, `?keyword=${encodeURIComponent(keyword)}`);
      assert.equal(d.count, d.list.length);
      return d.list.map((u: any) => u.displayName).sort();
    };
    assert.deepEqual(await names("mark"), ["Damir Mark", "Marko Markić"]);
    assert.deepEqual(await names("MARK"), ["Damir Mark", "Marko Markić"]);
    assert.deepEqual(await names("NA HO"), ["Ana Horvat"]);
    assert.deepEqual(await names("ETR"), ["Petra"]);
    assert.deepEqual(await names(randomBytes(8).toString("hex")), []);
    // Wildcards of LIKE and GLOB are literal characters.
    assert.deepEqual(await names("%"), []);
    assert.deepEqual(await names("_"), []);
    assert.deepEqual(await names("M%k"), []);
    assert.deepEqual(await names("a_a"), []);
    assert.deepEqual(await names("[x]"), ["Tom [x]"]);
    assert.deepEqual(await names("[X"), ["Tom [x]"]);
    assert.deepEqual(await names("m [x"), ["Tom [x]"]);
    assert.deepEqual(await names("["), ["Tom [x]"]);
    assert.deepEqual(await names("]"), ["Tom [x]"]);
    assert.deepEqual(await names("*"), ["Star*Lord?"]);
    assert.deepEqual(await names("r*l"), ["Star*Lord?"]);
    assert.deepEqual(await names("?"), ["Star*Lord?"]);
    assert.deepEqual(await names("t*"), []);
    assert.deepEqual(await names("p?t"), []);
    // An empty keyword is no filter.
    assert.equal((await listContacts(server, a, "?keyword=")).count, 7);
  });

  it("keyword matching ignores the case of non-ASCII letters too", async () => {
    const a = await signUp(server);
    const users = await Promise.all(["Čedomir Šarić", "ĐURĐA ŽIVKOVIĆ", "Ćiro"].map((displayName) => signUp(server, { displayName })));
    await upload(
      server,
      a,
      users.map((u) => sha256(u.phone)),
    );
    const names = async (keyword: string) => (await listContacts(server, a, `?keyword=${encodeURIComponent(keyword)}`)).list.map((u: any) => u.displayName);
    assert.deepEqual(await names("čedo"), ["Čedomir Šarić"]);
    assert.deepEqual(await names("ŠARIĆ"), ["Čedomir Šarić"]);
    assert.deepEqual(await names("đurđa živ"), ["ĐURĐA ŽIVKOVIĆ"]);
    assert.deepEqual(await names("ći"), ["Ćiro"]);
    assert.deepEqual((await names("Ć")).sort(), ["Čedomir Šarić", "ĐURĐA ŽIVKOVIĆ", "Ćiro"].sort());
  });

  it("pages by cursor and by page over 45 contacts: ordered by name (nulls first) then id, no repeats, no gaps", async () => {
    const a = await signUp(server);
    // Same-case names with repeats, and some users without a name.
    const pool = ["Ana", "Bor", "Bor", "Cvita", "Dino", "Ema", "Ema", "Filip", "Goran"];
    const users = await signUpMany(server, 45, (i) => (i % 9 === 4 ? undefined : pool[(i * 7) % pool.length]));
    const res = await upload(
      server,
      a,
      users.map((u) => sha256(u.phone)),
    );
    assert.equal(res.body.data.count, 45);
    await walkDirectory(server, a, users);
  });
});

/** Checks the whole directory of `who` (exactly `expected`) through cursors and pages. */
async function walkDirectory(server: TestServer, who: SignedUp, expected: SignedUp[]): Promise<void> {
  const order = directoryOrder(expected.map((u) => ({ id: u.user.id, displayName: u.user.displayName ?? null })));
  assert.equal(order.length, 45);

  const seen: number[] = [];
  let cursor: number | null = null;
  for (let round = 0; round < 5; round++) {
    const d = await listContacts(server, who, cursor === null ? "" : `?cursor=${cursor}`);
    assert.equal(d.count, 45);
    assert.equal(d.limit, 20);
    seen.push(...idsOf(d.list));
    if (d.list.length === 20) assert.equal(d.nextCursor, d.list[19].id, "nextCursor = last item's id on a full page");
    else assert.equal(d.nextCursor, null);
    cursor = d.nextCursor;
    if (cursor === null) break;
  }
  assert.deepEqual(seen, order, "cursor pages: whole directory, in order, no repeats, no gaps");

  const page = async (p: string) => idsOf((await listContacts(server, who, `?page=${p}`)).list);
  assert.deepEqual(await page("1"), order.slice(0, 20));
  assert.deepEqual(await page("2"), order.slice(20, 40));
  assert.deepEqual(await page("3"), order.slice(40));
  assert.deepEqual(await page("4"), []);
  assert.deepEqual(await page("abc"), order.slice(0, 20), "a non-numeric page means 1");
  // A cursor wins over page.
  const both = await listContacts(server, who, `?cursor=${order[19]}&page=3`);
  assert.deepEqual(idsOf(both.list), order.slice(20, 40));
}

describe("GET /contacts (team mode)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
  });
  after(() => server.close());

  it("lists every verified, non-deleted user except the caller, with blockedBy of the caller's own blocks", async () => {
    const me = await signUp(server);
    const others = await Promise.all(["Alma", "Boris", "Cecilija", "Davor"].map((displayName) => signUp(server, { displayName })));
    const [alma, boris, cecilija, davor] = others;
    await call(server, "POST", "/api/messenger/auth", { body: { telephoneNumber: newPhone(), deviceId: `p-${randomBytes(4).toString("hex")}` } });
    const gone = await signUp(server, { displayName: "Gone" });
    assert.equal((await call(server, "DELETE", "/api/messenger/me", { token: gone.token })).status, 200);

    // Blocks (the blocks API is not built yet): me → alma; davor → boris; cecilija → me.
    const now = Date.now();
    await server.ctx.db
      .insertInto("blocks")
      .values([
        { userId: me.user.id, blockedId: alma.user.id, createdAt: now, modifiedAt: now },
        { userId: davor.user.id, blockedId: boris.user.id, createdAt: now, modifiedAt: now },
        { userId: cecilija.user.id, blockedId: me.user.id, createdAt: now, modifiedAt: now },
      ])
      .execute();

    const d = await listContacts(server, me);
    assert.equal(d.limit, 20);
    assert.equal(d.nextCursor, null);
    assert.deepEqual(
      idsOf(d.list),
      others.map((u) => u.user.id),
      "all others by name; not me, not unverified, not deleted",
    );
    assert.equal(d.count, 4);
    const blockedBy = Object.fromEntries(d.list.map((u: any) => [u.displayName, u.blockedBy]));
    assert.deepEqual(blockedBy, { Alma: [{ userId: me.user.id }], Boris: [], Cecilija: [], Davor: [] });

    // Each caller sees only its own blocks.
    const fromDavor = await listContacts(server, davor);
    const boris2 = fromDavor.list.find((u: any) => u.id === boris.user.id);
    assert.deepEqual(boris2.blockedBy, [{ userId: davor.user.id }]);
    assert.ok(fromDavor.list.every((u: any) => Array.isArray(u.blockedBy)));
    assert.ok(
      fromDavor.list.some((u: any) => u.id === me.user.id),
      "the other callers see me",
    );

    const kw = await listContacts(server, me, "?keyword=ORI");
    assert.deepEqual(idsOf(kw.list), [boris.user.id]);
    assert.equal(kw.count, 1);
  });

  it("pages by cursor and by page over 45 users", async () => {
    // A fresh server, so the directory holds exactly these users.
    const team = await startTestServer({ TEAM_MODE: "1" });
    try {
      const me = await signUp(team, { displayName: "Zzz Me" });
      const pool = ["Iva", "Jure", "Jure", "Karla", "Luka", "Mia", "Nina"];
      const users = await signUpMany(team, 45, (i) => (i % 6 === 1 ? undefined : pool[(i * 5) % pool.length]));
      await walkDirectory(team, me, users);
    } finally {
      await team.close();
    }
  });
});
