// Jumping around a room's history (§4.14): oldest-message-date, target-message-batch,
// target-message-id-by-date and search — over HTTP, as the requester's copies (§9.1).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { sql } from "kysely";
import { call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { assertError, assertOk, groupRoom, history, privateRoom, sendText } from "./room-helpers.js";

const M = "/api/messenger/messages";

describe("navigation", () => {
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp, carol: SignedUp, dave: SignedUp;
  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    [alice, bob, carol, dave] = await Promise.all(["Alice", "Bob", "Carol", "Dave"].map((displayName) => signUp(server, { displayName })));
  });
  after(() => server.close());

  const get = (who: SignedUp | null, path: string) => call(server, "GET", path, who ? { token: who.token } : {});
  const block = async (who: SignedUp, other: SignedUp) => assertOk(await call(server, "POST", "/api/messenger/blocks", { token: who.token, body: { blockedId: other.user.id } }));
  const unblock = async (who: SignedUp, other: SignedUp) => assertOk(await call(server, "DELETE", `/api/messenger/blocks/userId/${other.user.id}`, { token: who.token }));
  const addToGroup = async (roomId: number, who: SignedUp) =>
    assertOk(await call(server, "PUT", `/api/messenger/rooms/${roomId}`, { token: alice.token, body: { action: "addGroupUsers", userIds: [who.user.id] } }));
  async function deleteMessage(who: SignedUp, id: number, target: "all" | "user") {
    assertOk(await call(server, "DELETE", `${M}/${id}?target=${target}`, { token: who.token }));
  }

  describe("GET /messages/roomId/:roomId/oldest-message-date", () => {
    const oldest = (who: SignedUp | null, roomId: number | string) => get(who, `${M}/roomId/${roomId}/oldest-message-date`);

    it("is null for a room without messages, then the ISO creation time of the first message", async () => {
      const room = await privateRoom(server, alice, bob);
      assert.deepEqual(assertOk(await oldest(alice, room.id)), { messageDate: null });
      const first = await sendText(server, bob, room.id, "first");
      await sendText(server, alice, room.id, "second");
      for (const who of [alice, bob]) assert.deepEqual(assertOk(await oldest(who, room.id)), { messageDate: new Date(first.createdAt).toISOString() });
    });

    it("counts only messages the requester can see: a later member starts at their join time", async () => {
      const room = await groupRoom(server, alice, [bob]);
      const created = (await history(server, alice, room.id)).at(-1);
      assert.equal(created.type, "system");
      await sendText(server, bob, room.id, "before carol");
      await addToGroup(room.id, carol);
      const seenByCarol = await history(server, carol, room.id);
      assert.ok(seenByCarol.every((m) => m.body.text !== "before carol"));
      const carolsFirst = seenByCarol.at(-1);
      assert.deepEqual(assertOk(await oldest(carol, room.id)), { messageDate: new Date(carolsFirst.createdAt).toISOString() });
      assert.deepEqual(assertOk(await oldest(alice, room.id)), { messageDate: new Date(created.createdAt).toISOString() });
    });

    it("answers 404 to non-members and for unknown or malformed room ids, 401 without a token", async () => {
      const room = await privateRoom(server, alice, carol);
      await sendText(server, alice, room.id, "private");
      assertError(await oldest(dave, room.id), 404);
      assertError(await oldest(alice, 987654), 404);
      assertError(await oldest(alice, "abc"), 404);
      assertError(await oldest(null, room.id), 401);
    });
  });

  describe("GET /messages/roomId/:roomId/target-message-batch", () => {
    let room: any;
    let msgs: any[]; // oldest first: msgs[i].body.text === `m${i}`
    const batch = (who: SignedUp | null, query: string, roomId = room.id) => get(who, `${M}/roomId/${roomId}/target-message-batch?${query}`);
    const ids = (list: any[]) => list.map((m) => m.id);
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msgs[from + i].id);

    before(async () => {
      room = await privateRoom(server, dave, bob);
      msgs = [];
      for (let i = 0; i < 70; i++) msgs.push(await sendText(server, i % 2 ? bob : dave, room.id, `m${i}`));
    });

    it("target only: 25 newer + the target once + 25 older, newest first, with cursors and flags", async () => {
      const data = assertOk(await batch(dave, `targetMessageId=${msgs[35].id}`));
      assert.deepEqual(ids(data.list), range(10, 60).reverse());
      assert.equal(data.list.filter((m: any) => m.id === msgs[35].id).length, 1);
      assert.equal(data.nextCursorDown, msgs[60].id);
      assert.equal(data.nextCursorUp, msgs[10].id);
      assert.equal(data.hasMoreNewerMessages, true);
      assert.equal(data.hasMoreOlderMessages, true);
      const item = data.list.find((m: any) => m.id === msgs[35].id);
      assert.equal(item.body.text, "m35");
      assert.deepEqual(item.messageRecords, []);
      for (const key of ["roomId", "fromUserId", "totalUserCount", "deliveredCount", "seenCount", "type", "createdAt", "modifiedAt", "deleted", "isForwarded", "hasLink"]) {
        assert.ok(key in item, key);
      }
    });

    it("near the ends the flags tell exactly whether more exist", async () => {
      const end = assertOk(await batch(dave, `targetMessageId=${msgs[65].id}`));
      assert.deepEqual(ids(end.list), range(40, 69).reverse());
      assert.equal(end.hasMoreNewerMessages, false);
      assert.equal(end.hasMoreOlderMessages, true);
      const exact = assertOk(await batch(dave, `targetMessageId=${msgs[25].id}`));
      assert.deepEqual(ids(exact.list), range(0, 50).reverse());
      assert.equal(exact.hasMoreOlderMessages, false, "exactly 25 older: nothing more");
      assert.equal(exact.hasMoreNewerMessages, true);
      const first = assertOk(await batch(bob, `targetMessageId=${msgs[0].id}`));
      assert.deepEqual(ids(first.list), range(0, 25).reverse());
      assert.equal(first.nextCursorUp, msgs[0].id);
      assert.equal(first.hasMoreOlderMessages, false);
    });

    it("cursorUp pages older (newest first), cursorDown pages newer (oldest first)", async () => {
      const up = assertOk(await batch(dave, `cursorUp=${msgs[60].id}`));
      assert.deepEqual(ids(up.list), range(10, 59).reverse());
      assert.equal(up.nextCursorUp, msgs[10].id);
      assert.equal(up.hasMoreOlderMessages, true);
      assert.equal(up.nextCursorDown, null);
      assert.equal(up.hasMoreNewerMessages, false);
      const up2 = assertOk(await batch(dave, `cursorUp=${up.nextCursorUp}`));
      assert.deepEqual(ids(up2.list), range(0, 9).reverse());
      assert.equal(up2.hasMoreOlderMessages, false);
      const up3 = assertOk(await batch(dave, `cursorUp=${msgs[0].id}`));
      assert.deepEqual(up3.list, []);
      assert.equal(up3.nextCursorUp, null);

      const down = assertOk(await batch(dave, `cursorDown=${msgs[5].id}`));
      assert.deepEqual(ids(down.list), range(6, 55));
      assert.equal(down.nextCursorDown, msgs[55].id);
      assert.equal(down.hasMoreNewerMessages, true);
      assert.equal(down.nextCursorUp, null);
      const down2 = assertOk(await batch(dave, `cursorDown=${down.nextCursorDown}`));
      assert.deepEqual(ids(down2.list), range(56, 69));
      assert.equal(down2.hasMoreNewerMessages, false);
      assert.equal(down2.nextCursorDown, msgs[69].id);
    });

    it("with a cursor, targetMessageId is only checked; the cursor decides the page", async () => {
      const data = assertOk(await batch(dave, `targetMessageId=${msgs[30].id}&cursorUp=${msgs[20].id}`));
      assert.deepEqual(ids(data.list), range(0, 19).reverse());
      assertError(await batch(dave, `targetMessageId=987654&cursorUp=${msgs[20].id}`), 404);
    });

    it("items carry their reactions (MessageWithReactions)", async () => {
      const r = assertOk(await call(server, "POST", "/api/messenger/message-records", { token: bob.token, body: { messageId: msgs[35].id, type: "reaction", reaction: "👍" } }));
      const data = assertOk(await batch(dave, `targetMessageId=${msgs[35].id}`));
      const item = data.list.find((m: any) => m.id === msgs[35].id);
      assert.equal(item.messageRecords.length, 1);
      assert.equal(item.messageRecords[0].id, r.messageRecord.id);
      assert.equal(item.messageRecords[0].reaction, "👍");
      assert.equal(item.messageRecords[0].type, "reaction");
    });

    it("answers 400 without (or with malformed) parameters", async () => {
      assertError(await batch(dave, ""), 400);
      assertError(await batch(dave, "targetMessageId=abc"), 400);
      assertError(await batch(dave, "cursorUp=-1"), 400);
      assertError(await batch(dave, "cursorDown=0"), 400);
    });

    it("answers 404 to non-members, for unknown rooms and for targets outside the room", async () => {
      assertError(await batch(alice, `targetMessageId=${msgs[35].id}`), 404, "No room found");
      assertError(await batch(alice, `cursorUp=${msgs[35].id}`), 404);
      assertError(await batch(dave, `targetMessageId=${msgs[35].id}`, 987654), 404);
      assertError(await batch(null, `targetMessageId=${msgs[35].id}`), 401);
      assertError(await batch(dave, "targetMessageId=987654"), 404, "Target message not found");
      const other = await privateRoom(server, dave, carol);
      const elsewhere = await sendText(server, dave, other.id, "elsewhere");
      assertError(await batch(dave, `targetMessageId=${elsewhere.id}`), 404, "Target message not found");
    });

    it("only the requester's copies: not before their join, not hidden by a block; deleted copies show as deleted", async () => {
      const group = await groupRoom(server, alice, [bob]);
      const early = await sendText(server, bob, group.id, "early");
      await addToGroup(group.id, carol);
      const late = await sendText(server, bob, group.id, "late");
      assertError(await batch(carol, `targetMessageId=${early.id}`, group.id), 404);
      const seen = assertOk(await batch(carol, `targetMessageId=${late.id}`, group.id));
      assert.ok(!ids(seen.list).includes(early.id));
      assert.ok(ids(seen.list).includes(late.id));
      assert.deepEqual(ids(assertOk(await batch(carol, `cursorUp=${late.id}`, group.id)).list).includes(early.id), false);

      await deleteMessage(bob, late.id, "user");
      const forBob = assertOk(await batch(bob, `targetMessageId=${late.id}`, group.id)).list.find((m: any) => m.id === late.id);
      assert.equal(forBob.deleted, true);
      assert.deepEqual(forBob.body, { text: "Deleted message" });
      const forCarol = assertOk(await batch(carol, `targetMessageId=${late.id}`, group.id)).list.find((m: any) => m.id === late.id);
      assert.equal(forCarol.deleted, false);
      assert.equal(forCarol.body.text, "late");

      const pair = await privateRoom(server, carol, bob);
      const before = await sendText(server, bob, pair.id, "before the block");
      await block(carol, bob);
      const hidden = await sendText(server, bob, pair.id, "hidden from carol");
      await unblock(carol, bob);
      assertError(await batch(carol, `targetMessageId=${hidden.id}`, pair.id), 404);
      assert.deepEqual(ids(assertOk(await batch(carol, `cursorDown=${before.id}`, pair.id)).list), []);
      assert.deepEqual(ids(assertOk(await batch(bob, `cursorDown=${before.id}`, pair.id)).list), [hidden.id]);
    });
  });

  describe("GET /messages/roomId/:roomId/target-message-id-by-date", () => {
    const byDate = (who: SignedUp | null, roomId: number | string, date?: string) =>
      get(who, `${M}/roomId/${roomId}/target-message-id-by-date${date === undefined ? "" : `?date=${encodeURIComponent(date)}`}`);

    it("returns the first non-system message at or after the date, else the newest one", async () => {
      const group = await groupRoom(server, alice, [bob]);
      const sent: any[] = [];
      for (let i = 0; i < 5; i++) sent.push(await sendText(server, i % 2 ? alice : bob, group.id, `t${i}`));
      assert.deepEqual(assertOk(await byDate(alice, group.id, "2001-01-01")), { targetMessageId: sent[0].id }, "the system message is skipped");
      assert.deepEqual(assertOk(await byDate(alice, group.id, "2999-12-31T00:00:00Z")), { targetMessageId: sent[4].id });
      for (const k of [1, 3, 4]) {
        const at = sent[k].createdAt;
        const { targetMessageId } = assertOk(await byDate(bob, group.id, new Date(at).toISOString()));
        const expected: any = sent.find((m: any) => m.createdAt >= at);
        assert.equal(targetMessageId, expected.id);
      }
    });

    it("is null when the room has no non-system message the requester can see", async () => {
      const group = await groupRoom(server, alice, [bob]);
      assert.deepEqual(assertOk(await byDate(bob, group.id, "2001-01-01")), { targetMessageId: null });
      await sendText(server, bob, group.id, "before carol");
      await addToGroup(group.id, carol);
      assert.deepEqual(assertOk(await byDate(carol, group.id, "2001-01-01")), { targetMessageId: null });
      const pair = await privateRoom(server, dave, alice);
      await block(dave, alice);
      await sendText(server, alice, pair.id, "hidden from dave");
      await unblock(dave, alice);
      assert.deepEqual(assertOk(await byDate(dave, pair.id, "2001-01-01")), { targetMessageId: null });
    });

    it("answers 400 for a missing or unparsable date, 404 to non-members", async () => {
      const erin = await signUp(server, { displayName: "Erin" });
      const pair = await privateRoom(server, bob, erin);
      await sendText(server, bob, pair.id, "x");
      assertError(await byDate(bob, pair.id), 400, "Invalid date");
      assertError(await byDate(bob, pair.id, ""), 400, "Invalid date");
      assertError(await byDate(bob, pair.id, "not a date"), 400, "Invalid date");
      assertError(await byDate(carol, pair.id, "2001-01-01"), 404, "No room found");
      assertError(await byDate(bob, 987654, "2001-01-01"), 404);
      assertError(await byDate(null, pair.id, "2001-01-01"), 401);
    });
  });

  describe("GET /messages/search", () => {
    const search = (who: SignedUp | null, query: Record<string, string | number>) =>
      get(who, `${M}/search?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()}`);
    const texts = (list: any[]) => list.map((i) => i.body.text);

    let group: any;
    const sent: Record<string, any> = {};
    before(async () => {
      group = await groupRoom(server, alice, [bob]);
      for (const [key, who, text] of [
        ["old", bob, "hello from before carol"],
        ["world", alice, "Hello World"],
        ["there", bob, "hello there"],
        ["shout", alice, "say HELLO loudly"],
        ["othello", bob, "Othello rocks"],
        ["bye", alice, "goodbye"],
        ["all", bob, "hello, deleted for all"],
        ["mine", bob, "hello, deleted for alice"],
        ["pct", alice, "100% sure_thing"],
        ["quote", bob, 'she said "hey" twice'],
      ] as const) {
        sent[key] = await sendText(server, who, group.id, text);
      }
      await deleteMessage(bob, sent.all.id, "all");
      await deleteMessage(alice, sent.mine.id, "user");
    });

    it("finds the requester's text messages containing the keyword, case-insensitively, newest first", async () => {
      const data = assertOk(await search(alice, { roomId: group.id, keyword: "hello" }));
      assert.deepEqual(texts(data.list), ["Othello rocks", "say HELLO loudly", "hello there", "Hello World", "hello from before carol"]);
      assert.equal(data.count, 5);
      const item = data.list[0];
      assert.deepEqual(Object.keys(item).sort(), ["body", "date", "id", "messageId", "type", "userId", "username"]);
      assert.equal(item.id, sent.othello.id);
      assert.equal(item.messageId, sent.othello.id);
      assert.equal(item.type, "text");
      assert.equal(item.userId, bob.user.id);
      assert.equal(item.username, "Bob");
      assert.equal(item.date, new Date(sent.othello.createdAt).toISOString());
      assert.deepEqual(texts(assertOk(await search(alice, { roomId: group.id, keyword: "  WORLD  " })).list), ["Hello World"]);
      assert.deepEqual(texts(assertOk(await search(alice, { roomId: group.id, keyword: "ELLO T" })).list), ["hello there"]);
    });

    it("excludes copies deleted for everyone or for the requester (others still find the latter)", async () => {
      const forAlice = texts(assertOk(await search(alice, { roomId: group.id, keyword: "deleted" })).list);
      assert.deepEqual(forAlice, []);
      const forBob = texts(assertOk(await search(bob, { roomId: group.id, keyword: "deleted" })).list);
      assert.deepEqual(forBob, ["hello, deleted for alice"]);
    });

    it("excludes messages from before the requester joined", async () => {
      const room = await groupRoom(server, alice, [bob], "Late joiners");
      await sendText(server, bob, room.id, "early hello");
      await addToGroup(room.id, carol);
      await sendText(server, bob, room.id, "late hello");
      assert.deepEqual(texts(assertOk(await search(carol, { roomId: room.id, keyword: "hello" })).list), ["late hello"]);
      assert.deepEqual(texts(assertOk(await search(alice, { roomId: room.id, keyword: "hello" })).list), ["late hello", "early hello"]);
    });

    it("excludes messages hidden from the requester by a block", async () => {
      const frank = await signUp(server, { displayName: "Frank" });
      const pair = await privateRoom(server, carol, frank);
      await sendText(server, frank, pair.id, "visible greeting");
      await block(carol, frank);
      await sendText(server, frank, pair.id, "hidden greeting");
      await unblock(carol, frank);
      assert.deepEqual(texts(assertOk(await search(carol, { roomId: pair.id, keyword: "greeting" })).list), ["visible greeting"]);
      assert.deepEqual(texts(assertOk(await search(frank, { roomId: pair.id, keyword: "greeting" })).list), ["hidden greeting", "visible greeting"]);
    });

    it("only text messages match (not captions of media), and edits are searched as edited", async () => {
      const gina = await signUp(server, { displayName: "Gina" });
      const pair = await privateRoom(server, alice, gina);
      const now = Date.now();
      const file = await server.ctx.db
        .insertInto("files")
        .values({
          clientId: `c-${now}`,
          userId: alice.user.id,
          fileName: "a.png",
          size: 10,
          mimeType: "image/png",
          type: "message",
          path: `/uploads/files/c-${now}`,
          sha256: "",
          createdAt: now,
          modifiedAt: now,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      assertOk(await call(server, "POST", M, { token: alice.token, body: { roomId: pair.id, type: "image", body: { fileId: file.id, text: "caption banana" } } }));
      const text = await sendText(server, alice, pair.id, "banana split");
      assert.deepEqual(texts(assertOk(await search(gina, { roomId: pair.id, keyword: "banana" })).list), ["banana split"]);
      assertOk(await call(server, "PUT", `${M}/${text.id}`, { token: alice.token, body: { text: "cherry pie" } }));
      assert.deepEqual(assertOk(await search(gina, { roomId: pair.id, keyword: "banana" })).list, []);
      assert.deepEqual(texts(assertOk(await search(gina, { roomId: pair.id, keyword: "cherry" })).list), ["cherry pie"]);
    });

    it("treats the keyword literally (%, _, quotes)", async () => {
      assert.deepEqual(texts(assertOk(await search(bob, { roomId: group.id, keyword: "0% s" })).list), ["100% sure_thing"]);
      assert.deepEqual(texts(assertOk(await search(bob, { roomId: group.id, keyword: "e_t" })).list), ["100% sure_thing"]);
      assert.deepEqual(assertOk(await search(bob, { roomId: group.id, keyword: "l_o" })).list, [], "_ is not a wildcard");
      assert.deepEqual(assertOk(await search(bob, { roomId: group.id, keyword: "%%%" })).list, [], "% is not a wildcard");
      assert.deepEqual(texts(assertOk(await search(bob, { roomId: group.id, keyword: '"hey"' })).list), ['she said "hey" twice']);
    });

    it("pages with itemsPerBatch and cursor (the id of the last item)", async () => {
      const all = assertOk(await search(bob, { roomId: group.id, keyword: "hello" }));
      assert.equal(all.list.length, 6);
      const seen: number[] = [];
      let cursor: number | undefined;
      for (let page = 0; page < 3; page++) {
        const data = assertOk(await search(bob, { roomId: group.id, keyword: "hello", itemsPerBatch: 2, ...(cursor ? { cursor } : {}) }));
        assert.equal(data.count, 6);
        assert.equal(data.list.length, 2);
        seen.push(...data.list.map((i: any) => i.id));
        cursor = data.list.at(-1).id;
      }
      assert.deepEqual(
        seen,
        all.list.map((i: any) => i.id),
      );
      assert.deepEqual(assertOk(await search(bob, { roomId: group.id, keyword: "hello", itemsPerBatch: 2, cursor: cursor! })).list, []);
    });

    it("answers 400 for a missing roomId or keyword and short keywords, 404 to non-members", async () => {
      assertError(await search(alice, { keyword: "hello" }), 400, "roomId");
      assertError(await search(alice, { roomId: "abc", keyword: "hello" }), 400);
      assertError(await search(alice, { roomId: group.id }), 400, "Keyword required");
      assertError(await search(alice, { roomId: group.id, keyword: "   " }), 400, "Keyword required");
      assertError(await search(alice, { roomId: group.id, keyword: " he " }), 400, "at least 3");
      assertError(await search(dave, { roomId: group.id, keyword: "hello" }), 404, "No room found");
      assertError(await search(alice, { roomId: 987654, keyword: "hello" }), 404);
      assertError(await search(null, { roomId: group.id, keyword: "hello" }), 401);
    });
  });

  describe("the search index (SQLite: written in batches, not per message)", () => {
    const search = async (s: TestServer, who: SignedUp, roomId: number, keyword: string) =>
      assertOk(await call(s, "GET", `${M}/search?roomId=${roomId}&keyword=${encodeURIComponent(keyword)}`, { token: who.token })).list.map((i: any) => i.body.text);

    it("a search sees every message sent before it, as edited or deleted since, with no job worker to index them", async () => {
      const alone = await startTestServer({ TEAM_MODE: "1", JOB_WORKER: "off" });
      try {
        const [ann, ben] = await Promise.all(["Ann", "Ben"].map((displayName) => signUp(alone, { displayName })));
        const room = await privateRoom(alone, ann, ben);
        const edited = await sendText(alone, ann, room.id, "kiwi tart");
        const removed = await sendText(alone, ben, room.id, "kiwi pie");
        await sendText(alone, ben, room.id, "kiwi jam");
        assertOk(await call(alone, "PUT", `${M}/${edited.id}`, { token: ann.token, body: { text: "mango tart" } }));
        assertOk(await call(alone, "DELETE", `${M}/${removed.id}?target=all`, { token: ben.token }));
        assert.deepEqual(await search(alone, ann, room.id, "kiwi"), ["kiwi jam"]);
        assert.deepEqual(await search(alone, ben, room.id, "mango"), ["mango tart"]);
        // Once indexed, edits and deletions still reach the index.
        const later = await sendText(alone, ann, room.id, "plum cake");
        assert.deepEqual(await search(alone, ann, room.id, "plum"), ["plum cake"]);
        assertOk(await call(alone, "PUT", `${M}/${later.id}`, { token: ann.token, body: { text: "pear cake" } }));
        assert.deepEqual(await search(alone, ann, room.id, "plum"), []);
        assert.deepEqual(await search(alone, ann, room.id, "cake"), ["pear cake"]);
      } finally {
        await alone.close();
      }
    });

    it("the job worker indexes new messages without waiting for a search", async (t) => {
      if (server.ctx.dialect !== "sqlite") return t.skip("PostgreSQL indexes the row as it is written");
      const room = await groupRoom(server, alice, [dave], "Papaya");
      const sent = await sendText(server, dave, room.id, "background papaya");
      const indexed = async () => (await sql<{ n: number }>`SELECT count(*) AS n FROM messages_fts WHERE rowid = ${sent.id}`.execute(server.ctx.db)).rows[0].n === 1;
      const deadline = Date.now() + 5000;
      while (!(await indexed())) {
        assert.ok(Date.now() < deadline, "indexed within 5 s");
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(await search(server, alice, room.id, "papaya"), ["background papaya"]);
    });
  });
});
