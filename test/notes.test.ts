// Room notes (API.md §4.16; upstream 17_messenger_note.ts), black-box over HTTP.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { assertError, assertOk, eventsFrom, groupRoom, history, ofType, privateRoom, reaches, users } from "./room-helpers.js";

const NOTE_KEYS = ["content", "createdAt", "id", "modifiedAt", "roomId", "title"];

describe("notes (§4.16)", () => {
  let server: TestServer;
  let alice: SignedUp;
  let bob: SignedUp;
  let carol: SignedUp;
  let group: any;
  let foreign: any;

  const create = (who: SignedUp, roomId: number | string, body?: unknown) => call(server, "POST", `/api/messenger/notes/roomId/${roomId}`, { token: who.token, body });
  const update = (who: SignedUp, id: number | string, body?: unknown) => call(server, "PUT", `/api/messenger/notes/${id}`, { token: who.token, body });
  const get = (who: SignedUp, id: number | string) => call(server, "GET", `/api/messenger/notes/${id}`, { token: who.token });
  const list = (who: SignedUp, roomId: number | string) => call(server, "GET", `/api/messenger/notes/roomId/${roomId}`, { token: who.token });
  const remove = (who: SignedUp, id: number | string) => call(server, "DELETE", `/api/messenger/notes/${id}`, { token: who.token });

  /** A note created by `who` in `roomId`. */
  const note = async (who: SignedUp, roomId: number, title = "Title", content = "Content") => assertOk(await create(who, roomId, { title, content })).note;

  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    [alice, bob, carol] = await users(server, "Alice", "Bob", "Carol");
    group = await groupRoom(server, alice, [bob], "Team");
    foreign = await groupRoom(server, carol, [], "Carol's");
  });
  after(() => server.close());

  describe("POST /notes/roomId/:roomId", () => {
    it("title is required (400), then the same request with a title succeeds", async () => {
      assertError(await create(alice, group.id, { content: "c" }), 400, "title");
      assertOk(await create(alice, group.id, { title: "t", content: "c" }));
    });

    it("title max length is 135: 136 and 137 characters are 400, 135 passes", async () => {
      assertError(await create(alice, group.id, { title: "x".repeat(137), content: "c" }), 400, "title");
      assertError(await create(alice, group.id, { title: "x".repeat(136), content: "c" }), 400, "title");
      const n = await note(alice, group.id, "x".repeat(135));
      assert.equal(n.title.length, 135);
    });

    it("title must be a non-empty string; content is required and non-empty", async () => {
      assertError(await create(alice, group.id, { title: "", content: "c" }), 400, "title");
      assertError(await create(alice, group.id, { title: 5, content: "c" }), 400, "title");
      assertError(await create(alice, group.id, { title: "t" }), 400, "content");
      assertError(await create(alice, group.id, { title: "t", content: "" }), 400, "content");
      assertError(await create(alice, group.id, { title: "t", content: ["c"] }), 400, "content");
      assertError(await create(alice, group.id), 400);
    });

    it("validation comes before the membership check; a malformed room id is 400", async () => {
      assertError(await create(carol, group.id, { title: "x".repeat(137), content: "c" }), 400, "title");
      assertError(await create(alice, "abc", { title: "t", content: "c" }), 400, "roomId");
      assertError(await create(alice, 0, { title: "t", content: "c" }), 400, "roomId");
    });

    it("user must be in the room: a foreign or unknown room is 403 and nothing is written or announced", async () => {
      const events = eventsFrom(server);
      assertError(await create(alice, foreign.id, { title: "t", content: "c" }), 403, "not participant");
      assertError(await create(alice, 999_999, { title: "t", content: "c" }), 403);
      assert.deepEqual(events(), []);
      assert.deepEqual(assertOk(await list(carol, foreign.id)).notes, []);
    });

    it("note is stored: the answer is the Note model and reads back the same", async () => {
      const before = Date.now();
      const n = await note(alice, group.id, "Shopping", "Milk\nEggs");
      assert.deepEqual(Object.keys(n).sort(), NOTE_KEYS);
      assert.equal(n.title, "Shopping");
      assert.equal(n.content, "Milk\nEggs");
      assert.equal(n.roomId, group.id);
      assert.ok(Number.isInteger(n.createdAt) && n.createdAt >= before, "createdAt is epoch ms");
      assert.equal(n.modifiedAt, n.createdAt);
      assert.deepEqual(assertOk(await get(bob, n.id)).note, n);
    });

    it("any member may create (not only admins), in a private room too", async () => {
      const n = await note(bob, group.id, "By Bob");
      assert.equal(n.roomId, group.id);
      const dm = await privateRoom(server, bob, carol);
      const p = await note(carol, dm.id, "Ours");
      assert.deepEqual(assertOk(await get(bob, p.id)).note, p);
    });

    it("posts a created_note system message to every member's devices, the author's included", async () => {
      const events = eventsFrom(server);
      const n = await note(bob, group.id, "Agenda", "1. coffee");
      const news = ofType(events(), "NEW_MESSAGE");
      assert.equal(news.length, 1);
      const msg = news[0].data.message as any;
      assert.ok(reaches(news[0], alice) && reaches(news[0], bob), "both members get it");
      assert.ok(!reaches(news[0], carol));
      assert.equal(msg.type, "system");
      assert.equal(msg.roomId, group.id);
      assert.equal(msg.fromUserId, bob.user.id);
      assert.equal(msg.totalUserCount, 2, "member count (proposed), not 0");
      assert.deepEqual(msg.body, {
        text: "Bob created note Agenda",
        subject: "Bob",
        subjectId: bob.user.id,
        type: "created_note",
        objects: ["Agenda"],
        objectIds: [n.id],
      });
      // The author's own delivered + seen records, announced to the members.
      const records = ofType(events(), "NEW_MESSAGE_RECORD").map((e) => e.data.messageRecord as any);
      assert.deepEqual(records.map((r) => [r.messageId, r.userId, r.type]).sort(), [
        [msg.id, bob.user.id, "delivered"],
        [msg.id, bob.user.id, "seen"],
      ]);
      // Stored: both members read it in the room history.
      const seenByAlice = (await history(server, alice, group.id)).find((m) => m.id === msg.id);
      assert.deepEqual(seenByAlice.body, msg.body);
    });
  });

  describe("GET /notes/roomId/:roomId", () => {
    it("user must be in the room (403); malformed id is 400", async () => {
      assertError(await list(alice, foreign.id), 403, "not participant");
      assertError(await list(alice, 999_999), 403);
      assertError(await list(alice, "x1"), 400, "roomId");
    });

    it("returns the room's notes by id, and only that room's", async () => {
      const room = await groupRoom(server, alice, [bob], "Listing");
      assert.deepEqual(assertOk(await list(alice, room.id)).notes, []);
      const a = await note(alice, room.id, "A");
      const b = await note(bob, room.id, "B");
      await note(alice, group.id, "elsewhere");
      const notes = assertOk(await list(bob, room.id)).notes;
      assert.deepEqual(notes, [a, b]);
    });
  });

  describe("GET /notes/:id", () => {
    it("user must be in the note's room (403); unknown note 404; malformed id 400", async () => {
      const n = await note(carol, foreign.id, "Secret", "hidden");
      const res = await get(alice, n.id);
      assertError(res, 403, "not participant");
      assert.ok(!res.text.includes("hidden"));
      assertError(await get(alice, 999_999), 404, "Note not found");
      assertError(await get(alice, "1x"), 400, "id");
    });

    it("returns the note", async () => {
      const n = await note(alice, group.id, "Detail");
      const got = assertOk(await get(bob, n.id)).note;
      assert.equal(got.id, n.id);
      assert.deepEqual(got, n);
    });
  });

  describe("PUT /notes/:id", () => {
    it("title is required, max 135; content is required (400)", async () => {
      const n = await note(alice, group.id);
      assertError(await update(alice, n.id, { content: "c" }), 400, "title");
      assertError(await update(alice, n.id, { title: "x".repeat(137), content: "c" }), 400, "title");
      assertError(await update(alice, n.id, { title: "x".repeat(136), content: "c" }), 400, "title");
      assertError(await update(alice, n.id, { title: "t" }), 400, "content");
      assertError(await update(alice, n.id, { title: "t", content: "" }), 400, "content");
      assert.deepEqual(assertOk(await get(alice, n.id)).note, n, "unchanged");
    });

    it("validation comes before the 404 and 403 checks", async () => {
      const n = await note(carol, foreign.id);
      assertError(await update(alice, n.id, { title: "t" }), 400, "content");
      assertError(await update(alice, 999_999, { content: "c" }), 400, "title");
    });

    it("user must be in the room (403); unknown note 404 `Not found`; malformed id 400", async () => {
      const n = await note(carol, foreign.id, "Carol's note", "mine");
      const events = eventsFrom(server);
      assertError(await update(alice, n.id, { title: "taken", content: "over" }), 403, "not participant");
      assertError(await update(alice, 999_999, { title: "t", content: "c" }), 404, "Not found");
      assertError(await update(alice, "abc", { title: "t", content: "c" }), 400, "id");
      assert.deepEqual(events(), []);
      assert.deepEqual(assertOk(await get(carol, n.id)).note, n, "unchanged");
    });

    it("update is stored, touches modifiedAt, and posts updated_note", async () => {
      const n = await note(alice, group.id, "Old", "old");
      const events = eventsFrom(server);
      const u = assertOk(await update(bob, n.id, { title: "New", content: "new" })).note;
      assert.deepEqual(Object.keys(u).sort(), NOTE_KEYS);
      assert.equal(u.id, n.id);
      assert.equal(u.title, "New");
      assert.equal(u.content, "new");
      assert.equal(u.createdAt, n.createdAt);
      assert.ok(u.modifiedAt > n.modifiedAt, "modifiedAt moves");
      assert.deepEqual(assertOk(await get(alice, n.id)).note, u);

      const news = ofType(events(), "NEW_MESSAGE");
      assert.equal(news.length, 1);
      assert.ok(reaches(news[0], alice) && reaches(news[0], bob));
      const body = (news[0].data.message as any).body;
      assert.deepEqual(body, { text: "Bob updated note New", subject: "Bob", subjectId: bob.user.id, type: "updated_note", objects: ["New"], objectIds: [n.id] });
    });
  });

  describe("DELETE /notes/:id", () => {
    it("user must be in the room (403); unknown note 404; malformed id 400", async () => {
      const n = await note(carol, foreign.id);
      assertError(await remove(alice, n.id), 403, "not participant");
      assertOk(await get(carol, n.id));
      assertError(await remove(alice, 999_999), 404, "Not found");
      assertError(await remove(alice, "abc"), 400, "id");
    });

    it("deletes from the database (hard delete) and posts deleted_note", async () => {
      const n = await note(alice, group.id, "Doomed");
      const events = eventsFrom(server);
      assert.deepEqual(assertOk(await remove(bob, n.id)), { deleted: true });
      assertError(await get(alice, n.id), 404, "Note not found");
      assert.ok(!assertOk(await list(alice, group.id)).notes.some((x: any) => x.id === n.id));
      assertError(await remove(alice, n.id), 404, "Not found");
      assertError(await update(alice, n.id, { title: "t", content: "c" }), 404);

      const news = ofType(events(), "NEW_MESSAGE");
      assert.equal(news.length, 1);
      assert.ok(reaches(news[0], alice) && reaches(news[0], bob));
      const body = (news[0].data.message as any).body;
      assert.deepEqual(body, { text: "Bob deleted note Doomed", subject: "Bob", subjectId: bob.user.id, type: "deleted_note", objects: ["Doomed"], objectIds: [n.id] });
      assert.ok(!("objectId" in body), "objectIds, not upstream's objectId");
    });
  });

  describe("membership changes", () => {
    it("a user who left the room loses access; a deleted room keeps its notes readable but takes no changes", async () => {
      const room = await groupRoom(server, alice, [bob, carol], "Temporary");
      const n = await note(carol, room.id, "Before");
      assertOk(await call(server, "POST", `/api/messenger/rooms/${room.id}/leave`, { token: carol.token }));
      assertError(await get(carol, n.id), 403);
      assertError(await list(carol, room.id), 403);
      assertError(await update(carol, n.id, { title: "t", content: "c" }), 403);
      assertError(await remove(carol, n.id), 403);

      assertOk(await call(server, "DELETE", `/api/messenger/rooms/${room.id}`, { token: alice.token }));
      assert.deepEqual(assertOk(await list(bob, room.id)).notes, [n]);
      assertError(await create(alice, room.id, { title: "t", content: "c" }), 403, "deleted");
      assertError(await update(alice, n.id, { title: "t", content: "c" }), 403, "deleted");
      assertError(await remove(alice, n.id), 403, "deleted");
      assertOk(await get(bob, n.id));
    });

    it("requires an access token", async () => {
      assertError(await call(server, "GET", `/api/messenger/notes/roomId/${group.id}`), 401);
      assertError(await call(server, "POST", `/api/messenger/notes/roomId/${group.id}`, { body: { title: "t", content: "c" } }), 401);
    });
  });
});
