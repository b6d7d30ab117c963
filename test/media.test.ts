// Media of a room (§4.13, §13a.3): GET /gallery and GET /media — members only, the requester's
// live copies, paging by cursor, and /media without `type` answering exactly like /gallery.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { assertError, assertOk, groupRoom, privateRoom, sendText } from "./room-helpers.js";

describe("media", () => {
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp, carol: SignedUp, dave: SignedUp;
  let room: any;
  /** Gallery items of `room`, oldest first: m[i] */
  const m: any[] = [];
  let fileMsgs: any[], links: any[], audio: any;
  let seq = 0;

  async function newFile(owner: SignedUp, mimeType: string, fileName: string) {
    const now = Date.now();
    const clientId = `media-test-${process.pid}-${++seq}`;
    return server.ctx.db
      .insertInto("files")
      .values({
        clientId,
        userId: owner.user.id,
        fileName,
        size: 100 + seq,
        mimeType,
        type: "message",
        path: `/uploads/files/${clientId}`,
        sha256: "",
        createdAt: now,
        modifiedAt: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }
  async function send(from: SignedUp, roomId: number, type: string, body: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return assertOk(await call(server, "POST", "/api/messenger/messages", { token: from.token, body: { roomId, type, body, ...extra } })).message;
  }
  async function sendMedia(from: SignedUp, roomId: number, type: "image" | "video" | "file" | "audio", withThumb = false) {
    const mime = { image: "image/png", video: "video/mp4", file: "application/pdf", audio: "audio/mpeg" }[type];
    const file = await newFile(from, mime, `${type}-${seq}.bin`);
    const thumb = withThumb ? await newFile(from, "image/jpeg", `thumb-${seq}.jpg`) : undefined;
    return send(from, roomId, type, { fileId: file.id, ...(thumb ? { thumbId: thumb.id } : {}) });
  }
  const get = (who: SignedUp | null, path: string, query: Record<string, string | number> = {}) =>
    call(server, "GET", `${path}?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()}`, who ? { token: who.token } : {});
  const gallery = (who: SignedUp | null, query: Record<string, string | number>) => get(who, "/api/messenger/gallery", query);
  const media = (who: SignedUp | null, query: Record<string, string | number>) => get(who, "/api/messenger/media", query);
  const ids = (list: any[]) => list.map((i) => i.messageId);
  const mids = (...idx: number[]) => idx.map((i) => m[i].id);

  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    [alice, bob, carol, dave] = await Promise.all(["Alice", "Bob", "Carol", "Dave"].map((displayName) => signUp(server, { displayName })));
    room = await groupRoom(server, alice, [bob]);
    for (let i = 0; i < 8; i++) {
      m.push(await sendMedia(i % 3 ? alice : bob, room.id, i % 2 ? "video" : "image", i === 7));
      if (i === 2) fileMsgs = [await sendMedia(bob, room.id, "file")];
      if (i === 4) links = [await send(alice, room.id, "text", { text: "see https://example.com" }, { hasLink: true })];
    }
    fileMsgs.push(await sendMedia(alice, room.id, "file"));
    audio = await sendMedia(alice, room.id, "audio");
    links.push(await send(bob, room.id, "text", { text: "www.example.org rocks" }, { hasLink: true }));
    await sendText(server, bob, room.id, "no link here");
  });
  after(() => server.close());

  describe("GET /gallery", () => {
    it("without a cursor: the newest 6 images and videos, in chronological order", async () => {
      const data = assertOk(await gallery(alice, { roomId: room.id }));
      assert.deepEqual(ids(data.list), mids(2, 3, 4, 5, 6, 7));
      assert.equal(data.hasMoreOlderImages, true);
      assert.equal(data.hasMoreNewerImages, false);
    });

    it("items are { messageId, type, body with file/thumb, userId, username, date (ISO) }", async () => {
      const data = assertOk(await gallery(bob, { roomId: room.id }));
      const item = data.list.at(-1);
      assert.deepEqual(Object.keys(item).sort(), ["body", "date", "messageId", "type", "userId", "username"]);
      assert.equal(item.messageId, m[7].id);
      assert.equal(item.type, "video");
      assert.equal(item.userId, alice.user.id);
      assert.equal(item.username, "Alice");
      assert.equal(item.date, new Date(m[7].createdAt).toISOString());
      assert.equal(item.body.fileId, m[7].body.fileId);
      assert.deepEqual(Object.keys(item.body.file).sort(), ["fileName", "id", "metaData", "mimeType", "size"]);
      assert.equal(item.body.file.id, m[7].body.fileId);
      assert.equal(item.body.file.mimeType, "video/mp4");
      assert.equal(item.body.thumb.id, m[7].body.thumbId);
      assert.equal(data.list[0].type, "image");
      assert.equal(data.list[0].body.thumb, undefined);
    });

    it("cursor without flags: the page from the cursor message (inclusive) going older", async () => {
      const data = assertOk(await gallery(alice, { roomId: room.id, cursor: m[4].id }));
      assert.deepEqual(ids(data.list), mids(0, 1, 2, 3, 4));
      assert.equal(data.hasMoreOlderImages, false);
      assert.equal(data.hasMoreNewerImages, true);
    });

    it("fetchOlder / fetchNewer page away from the cursor; itemsPerBatch and its alias take set the size", async () => {
      const older = assertOk(await gallery(alice, { roomId: room.id, cursor: m[4].id, fetchOlder: "true", itemsPerBatch: 2 }));
      assert.deepEqual(ids(older.list), mids(2, 3));
      assert.equal(older.hasMoreOlderImages, true);
      assert.equal(older.hasMoreNewerImages, true);
      const newer = assertOk(await gallery(alice, { roomId: room.id, cursor: m[4].id, fetchNewer: "true", take: 2 }));
      assert.deepEqual(ids(newer.list), mids(5, 6));
      assert.equal(newer.hasMoreNewerImages, true);
      const last = assertOk(await gallery(alice, { roomId: room.id, cursor: m[6].id, fetchNewer: "true" }));
      assert.deepEqual(ids(last.list), mids(7));
      assert.equal(last.hasMoreNewerImages, false);
      assert.equal(last.hasMoreOlderImages, true);
      const none = assertOk(await gallery(alice, { roomId: room.id, cursor: m[0].id, fetchOlder: "true" }));
      assert.deepEqual(none.list, []);
      assert.equal(none.hasMoreOlderImages, false);
      assert.equal(none.hasMoreNewerImages, true);
    });

    it("lists only the requester's live copies: not deleted (for all or for them), not before joining, not hidden", async () => {
      const g = await groupRoom(server, alice, [bob], "Gallery rules");
      const early = await sendMedia(bob, g.id, "image");
      assertOk(await call(server, "PUT", `/api/messenger/rooms/${g.id}`, { token: alice.token, body: { action: "addGroupUsers", userIds: [carol.user.id] } }));
      const forAll = await sendMedia(bob, g.id, "image");
      const forAlice = await sendMedia(bob, g.id, "video");
      const kept = await sendMedia(bob, g.id, "image");
      assertOk(await call(server, "DELETE", `/api/messenger/messages/${forAll.id}?target=all`, { token: bob.token }));
      assertOk(await call(server, "DELETE", `/api/messenger/messages/${forAlice.id}?target=user`, { token: alice.token }));
      assert.deepEqual(ids(assertOk(await gallery(alice, { roomId: g.id })).list), [early.id, kept.id]);
      assert.deepEqual(ids(assertOk(await gallery(bob, { roomId: g.id })).list), [early.id, forAlice.id, kept.id]);
      const forCarol = assertOk(await gallery(carol, { roomId: g.id }));
      assert.deepEqual(ids(forCarol.list), [forAlice.id, kept.id]);
      assert.equal(forCarol.hasMoreOlderImages, false);

      const pair = await privateRoom(server, carol, dave);
      const visible = await sendMedia(dave, pair.id, "image");
      assertOk(await call(server, "POST", "/api/messenger/blocks", { token: carol.token, body: { blockedId: dave.user.id } }));
      const hidden = await sendMedia(dave, pair.id, "image");
      assertOk(await call(server, "DELETE", `/api/messenger/blocks/userId/${dave.user.id}`, { token: carol.token }));
      assert.deepEqual(ids(assertOk(await gallery(carol, { roomId: pair.id })).list), [visible.id]);
      assert.deepEqual(ids(assertOk(await gallery(dave, { roomId: pair.id })).list), [visible.id, hidden.id]);
    });

    it("answers 400 for a missing or malformed roomId, 404 to non-members, 401 without a token", async () => {
      assertError(await gallery(alice, {}), 400, "Invalid room id");
      assertError(await gallery(alice, { roomId: "abc" }), 400, "Invalid room id");
      assertError(await gallery(carol, { roomId: room.id }), 404);
      assertError(await gallery(alice, { roomId: 987654 }), 404);
      assertError(await gallery(null, { roomId: room.id }), 401);
    });
  });

  describe("GET /media", () => {
    it("without type it answers exactly like /gallery", async () => {
      const queries: Array<Record<string, string | number>> = [
        {},
        { cursor: m[4].id },
        { cursor: m[4].id, fetchOlder: "true", itemsPerBatch: 2 },
        { cursor: m[4].id, fetchNewer: "true", take: 3 },
      ];
      for (const query of queries) {
        const q = { roomId: room.id, ...query };
        const viaMedia = await media(alice, q);
        assert.deepEqual(assertOk(viaMedia), assertOk(await gallery(alice, q)), JSON.stringify(query));
      }
      assertError(await media(alice, {}), 400, "Invalid room id");
      assertError(await media(carol, { roomId: room.id }), 404);
    });

    it("type=media: images and videos, newest first, with the total count; the cursor page starts after it", async () => {
      const data = assertOk(await media(alice, { roomId: room.id, type: "media" }));
      assert.deepEqual(ids(data.list), mids(7, 6, 5, 4, 3, 2, 1, 0));
      assert.equal(data.count, 8);
      assert.deepEqual(Object.keys(data.list[0]).sort(), ["body", "date", "messageId", "type", "userId", "username"]);
      assert.equal(data.list[0].body.file.id, m[7].body.fileId);
      const page1 = assertOk(await media(alice, { roomId: room.id, type: "media", itemsPerBatch: 3 }));
      assert.deepEqual(ids(page1.list), mids(7, 6, 5));
      const page2 = assertOk(await media(alice, { roomId: room.id, type: "media", take: 3, cursor: page1.list.at(-1).messageId }));
      assert.deepEqual(ids(page2.list), mids(4, 3, 2));
      assert.equal(page2.count, 8);
      const end = assertOk(await media(alice, { roomId: room.id, type: "media", cursor: m[0].id }));
      assert.deepEqual(end.list, []);
    });

    it("type=file: file messages only (not audio, not images)", async () => {
      const data = assertOk(await media(bob, { roomId: room.id, type: "file" }));
      assert.deepEqual(ids(data.list), [fileMsgs[1].id, fileMsgs[0].id]);
      assert.equal(data.count, 2);
      assert.ok(!ids(data.list).includes(audio.id));
      assert.equal(data.list[0].type, "file");
      assert.equal(data.list[0].body.file.mimeType, "application/pdf");
    });

    it("type=link: text messages with hasLink, not deleted", async () => {
      const data = assertOk(await media(bob, { roomId: room.id, type: "link" }));
      assert.deepEqual(ids(data.list), [links[1].id, links[0].id]);
      assert.equal(data.list[0].body.text, "www.example.org rocks");
      assert.equal(data.list[0].type, "text");
      const g = await groupRoom(server, bob, [alice], "Links");
      const gone = await send(bob, g.id, "text", { text: "https://gone.example" }, { hasLink: true });
      const mine = await send(bob, g.id, "text", { text: "https://mine.example" }, { hasLink: true });
      assertOk(await call(server, "DELETE", `/api/messenger/messages/${gone.id}?target=all`, { token: bob.token }));
      assertOk(await call(server, "DELETE", `/api/messenger/messages/${mine.id}?target=user`, { token: alice.token }));
      const forAlice = assertOk(await media(alice, { roomId: g.id, type: "link" }));
      assert.deepEqual(forAlice, { list: [], count: 0 });
      assert.deepEqual(ids(assertOk(await media(bob, { roomId: g.id, type: "link" })).list), [mine.id]);
    });

    it("answers 400 for an invalid room id or type, 404 to non-members, 401 without a token", async () => {
      assertError(await media(alice, { type: "media" }), 400, "Invalid room id");
      assertError(await media(alice, { roomId: "x1", type: "media" }), 400, "Invalid room id");
      assertError(await media(alice, { roomId: room.id, type: "images" }), 400, "Invalid type");
      assertError(await media(alice, { roomId: room.id, type: "" }), 400, "Invalid type");
      assertError(await media(carol, { roomId: room.id, type: "media" }), 404);
      assertError(await media(dave, { roomId: room.id, type: "file" }), 404);
      assertError(await media(null, { roomId: room.id, type: "media" }), 401);
    });
  });
});
