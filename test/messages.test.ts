// Messages (§4.14, §9.1, §9.2): send rules, fan-out, idempotency, edit, delete, history, sync.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";

describe("messages", () => {
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp, carol: SignedUp, outsider: SignedUp;
  let groupId: number;
  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    alice = await signUp(server, { displayName: "Alice" });
    bob = await signUp(server, { displayName: "Bob" });
    carol = await signUp(server, { displayName: "Carol" });
    outsider = await signUp(server, { displayName: "Outsider" });
    groupId = (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "G", userIds: [bob.user.id, carol.user.id] } })).body.data.room.id;
  });
  after(() => server.close());

  const send = (who: SignedUp, body: Record<string, unknown>) => call(server, "POST", "/api/messenger/messages", { token: who.token, body });
  const text = async (who: SignedUp, roomId: number, t: string, extra: Record<string, unknown> = {}) => {
    const res = await send(who, { roomId, type: "text", body: { text: t }, ...extra });
    assert.equal(res.status, 200, res.text);
    return res.body.data.message;
  };
  const historyOf = async (who: SignedUp, roomId: number, query = "") => {
    const res = await call(server, "GET", `/api/messenger/messages/roomId/${roomId}${query}`, { token: who.token });
    assert.equal(res.status, 200, res.text);
    return res.body.data;
  };
  const newRoom = async (...members: SignedUp[]) =>
    (await call(server, "POST", "/api/messenger/rooms", { token: members[0].token, body: { name: "R", type: "group", userIds: members.slice(1).map((m) => m.user.id) } })).body.data
      .room.id as number;
  const addFile = async (owner: SignedUp, mimeType = "image/png") => {
    const now = Date.now();
    const row = await server.ctx.db
      .insertInto("files")
      .values({
        clientId: `f-${now}-${Math.random()}`,
        userId: owner.user.id,
        fileName: "a.png",
        size: 10,
        mimeType,
        type: "message",
        path: "/uploads/files/x",
        sha256: "",
        metaWidth: 4,
        metaHeight: 3,
        createdAt: now,
        modifiedAt: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return row.id;
  };

  describe("POST /messages validation", () => {
    it("roomId and type are required and typed", async () => {
      for (const body of [
        { type: "text", body: { text: "x" } },
        { roomId: [42], type: "text", body: { text: "x" } },
        { roomId: "notNum", type: "text", body: { text: "x" } },
        { roomId: groupId, body: { text: "x" } },
        { roomId: groupId, type: true, body: { text: "x" } },
        { roomId: groupId, type: [1], body: { text: "x" } },
        { roomId: groupId, type: "text" },
        { roomId: groupId, type: "text", body: "x" },
      ]) {
        const res = await send(alice, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.status, "error");
      }
    });

    it("a room the sender is not in, or that doesn't exist, is 400", async () => {
      assert.equal((await send(alice, { roomId: 987654, type: "text", body: { text: "x" } })).status, 400);
      assert.equal((await send(outsider, { roomId: groupId, type: "text", body: { text: "x" } })).status, 400);
    });

    it("text needs text; unknown types are refused", async () => {
      assert.equal((await send(alice, { roomId: groupId, type: "text", body: {} })).status, 400);
      assert.equal((await send(alice, { roomId: groupId, type: "text", body: { text: "" } })).status, 400);
      assert.equal((await send(alice, { roomId: groupId, type: "sticker", body: { text: "x" } })).status, 400);
      assert.equal((await send(alice, { roomId: groupId, type: "system", body: { text: "x" } })).status, 400);
    });

    it("media need an existing file of the sender; thumbId must exist; the body gains file objects", async () => {
      const fileId = await addFile(alice);
      const thumbId = await addFile(alice);
      const foreign = await addFile(bob);
      assert.equal((await send(alice, { roomId: groupId, type: "image", body: {} })).status, 400);
      assert.equal((await send(alice, { roomId: groupId, type: "image", body: { fileId: 987654 } })).status, 400);
      assert.equal((await send(alice, { roomId: groupId, type: "image", body: { fileId: foreign } })).status, 400);
      assert.equal((await send(alice, { roomId: groupId, type: "image", body: { fileId, thumbId: 987654 } })).status, 400);
      const ok = await send(alice, { roomId: groupId, type: "image", body: { fileId, thumbId, text: "caption" } });
      assert.equal(ok.status, 200);
      const body = ok.body.data.message.body;
      assert.equal(body.text, "caption");
      assert.deepEqual(body.file, { id: fileId, fileName: "a.png", mimeType: "image/png", size: 10, metaData: { duration: 0, width: 4, height: 3 } });
      assert.equal(body.thumb.id, thumbId);
      const seen = (await historyOf(bob, groupId)).list[0];
      assert.deepEqual(seen.body.file, body.file, "recipients see the same file object");
    });

    it("replyId must be a visible message of the same room; its view is embedded", async () => {
      const original = await text(bob, groupId, "original");
      const elsewhere = await text(alice, await newRoom(alice, outsider), "elsewhere");
      assert.equal((await send(alice, { roomId: groupId, type: "text", body: { text: "r" }, replyId: true })).status, 400);
      assert.equal((await send(alice, { roomId: groupId, type: "text", body: { text: "r" }, replyId: 987654 })).status, 400);
      assert.equal((await send(alice, { roomId: groupId, type: "text", body: { text: "r" }, replyId: elsewhere.id })).status, 400);
      assert.equal((await send(alice, { roomId: groupId, type: "text", body: {}, replyId: original.id })).status, 400);
      const reply = await send(alice, { roomId: groupId, type: "text", body: { text: "reply" }, replyId: original.id });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.data.message.replyId, original.id);
      assert.equal(reply.body.data.message.body.referenceMessage.id, original.id);
      assert.equal(reply.body.data.message.body.referenceMessage.body.text, "original");
    });
  });

  describe("fan-out", () => {
    it("stores one message with totalUserCount, sender records, and NEW_MESSAGE to every device but the sending one", async () => {
      const second = await signUp(server, { phone: alice.phone, deviceId: "alice-second-device" });
      assert.equal(second.user.id, alice.user.id);
      const before = server.events.events.length;
      const msg = await text(alice, groupId, "hello all", { localId: "fan-1" });
      assert.equal(msg.totalUserCount, 3);
      assert.equal(msg.deliveredCount, 1);
      assert.equal(msg.seenCount, 1);
      assert.equal(msg.body.text, "hello all");
      const events = server.events.events.slice(before);
      const news = events.filter((e) => e.data.type === "NEW_MESSAGE");
      assert.equal(news.length, 1);
      assert.deepEqual([...news[0].userIds].sort(), [alice.user.id, bob.user.id, carol.user.id].sort());
      assert.deepEqual(news[0].excludeDeviceIds, [alice.device.id], "the sending device gets no NEW_MESSAGE, the sender's other device does");
      assert.equal((news[0].data.message as any).id, msg.id);
      const records = events.filter((e) => e.data.type === "NEW_MESSAGE_RECORD").map((e) => (e.data.messageRecord as any).type);
      assert.deepEqual(records.sort(), ["delivered", "seen"]);
      for (const who of [bob, carol]) {
        const list = (await historyOf(who, groupId)).list;
        assert.equal(list[0].id, msg.id);
        assert.equal(list[0].body.text, "hello all");
      }
      const own = await call(server, "GET", `/api/messenger/messages/sync/0`, { token: alice.token });
      assert.equal(own.body.data.list.filter((m: any) => m.id === msg.id).length, 1, "the sending device holds exactly one copy");
      assert.equal((await call(server, "GET", `/api/messenger/messages/sync/0`, { token: second.token })).body.data.list.filter((m: any) => m.id === msg.id).length, 1);
    });

    it("a retried send with the same localId returns the same message and creates nothing", async () => {
      const room = await newRoom(alice, bob);
      const first = await text(alice, room, "once", { localId: "retry-1" });
      const before = server.events.events.length;
      const again = await text(alice, room, "once", { localId: "retry-1" });
      assert.equal(again.id, first.id);
      assert.equal(server.events.events.length, before, "no events for the retry");
      const parallel = await Promise.all(Array.from({ length: 8 }, () => send(alice, { roomId: room, type: "text", body: { text: "p" }, localId: "retry-2" })));
      assert.ok(parallel.every((r) => r.status === 200));
      assert.equal(new Set(parallel.map((r) => r.body.data.message.id)).size, 1, "concurrent retries give one message");
      const h = await historyOf(bob, room);
      assert.equal(h.count, 3, "created_group + one message per localId");
      assert.equal(h.list.length, 3);
      const otherUser = await text(bob, room, "same local id, other sender", { localId: "retry-1" });
      assert.notEqual(otherUser.id, first.id);
    });

    it("a member sees only messages created after joining; a new device syncs only later messages", async () => {
      const room = await newRoom(alice, bob);
      const early = await text(alice, room, "early");
      await call(server, "PUT", `/api/messenger/rooms/${room}`, { token: alice.token, body: { action: "addGroupUsers", userIds: [carol.user.id] } });
      const late = await text(alice, room, "late");
      const carolSees = (await historyOf(carol, room)).list.map((m: any) => m.id);
      assert.ok(!carolSees.includes(early.id));
      assert.ok(carolSees.includes(late.id));
      const bobNewDevice = await signUp(server, { phone: bob.phone, deviceId: `bob-new-${Date.now()}` });
      const newer = await text(alice, room, "newer");
      const synced = (await call(server, "GET", "/api/messenger/messages/sync/0", { token: bobNewDevice.token })).body.data.list.map((m: any) => m.id);
      assert.ok(synced.includes(newer.id));
      assert.ok(!synced.includes(late.id), "a device created after a message holds no copy of it");
      const viaHistory = (await historyOf(bobNewDevice, room)).list.map((m: any) => m.id);
      assert.ok(viaHistory.includes(late.id) && viaHistory.includes(early.id), "but room history shows it");
    });

    it("unread counts rise for recipients (system messages too) and seen resets them", async () => {
      const room = await newRoom(alice, bob, carol);
      await text(alice, room, "1");
      await text(alice, room, "2");
      const bobRoom = await call(server, "GET", `/api/messenger/rooms/${room}`, { token: bob.token });
      assert.equal(bobRoom.body.data.room.unreadCount, 3, "created_group + 2 messages");
      const aliceRoom = await call(server, "GET", `/api/messenger/rooms/${room}`, { token: alice.token });
      assert.equal(aliceRoom.body.data.room.unreadCount, 0);
      const seen = await call(server, "POST", `/api/messenger/messages/${room}/seen`, { token: bob.token });
      assert.equal(seen.status, 200);
      assert.equal((await call(server, "GET", `/api/messenger/rooms/${room}`, { token: bob.token })).body.data.room.unreadCount, 0);
      const m = await text(carol, room, "3");
      await call(server, "DELETE", `/api/messenger/messages/${m.id}?target=all`, { token: carol.token });
      assert.equal((await call(server, "GET", `/api/messenger/rooms/${room}`, { token: bob.token })).body.data.room.unreadCount, 1, "deleted messages count");
    });
  });

  describe("seen and delivered", () => {
    it("seen validates the room and membership", async () => {
      assert.equal((await call(server, "POST", "/api/messenger/messages/invalid/seen", { token: alice.token })).status, 400);
      assert.equal((await call(server, "POST", "/api/messenger/messages/987654/seen", { token: alice.token })).status, 400);
      assert.equal((await call(server, "POST", `/api/messenger/messages/${groupId}/seen`, { token: outsider.token })).status, 400);
    });

    it("seen creates seen+delivered records for messages after the join time only, and tells the user's other devices", async () => {
      const room = await newRoom(alice, bob);
      const before = await text(alice, room, "before carol");
      await call(server, "PUT", `/api/messenger/rooms/${room}`, { token: alice.token, body: { action: "addGroupUsers", userIds: [carol.user.id] } });
      const afterJoin = await text(alice, room, "after carol");
      const mark = server.events.events.length;
      await call(server, "POST", `/api/messenger/messages/${room}/seen`, { token: carol.token });
      const recs = async (id: number) => (await call(server, "GET", `/api/messenger/messages/${id}/message-records`, { token: alice.token })).body.data.messageRecords;
      const mine = (await recs(afterJoin.id))
        .filter((r: any) => r.userId === carol.user.id)
        .map((r: any) => r.type)
        .sort();
      assert.deepEqual(mine, ["delivered", "seen"]);
      assert.equal((await recs(before.id)).filter((r: any) => r.userId === carol.user.id).length, 0);
      const seenRoom = server.events.events.slice(mark).filter((e) => e.data.type === "SEEN_ROOM");
      assert.deepEqual(
        seenRoom.map((e) => ({ users: e.userIds, exclude: e.excludeDeviceIds, roomId: e.data.roomId })),
        [{ users: [carol.user.id], exclude: [carol.device.id], roomId: room }],
      );
    });

    it("delivered validates ids and rooms, and counts at once", async () => {
      const room = await newRoom(alice, bob);
      const m = await text(alice, room, "d");
      assert.equal((await call(server, "POST", "/api/messenger/messages/delivered", { token: bob.token, body: {} })).status, 400);
      assert.equal((await call(server, "POST", "/api/messenger/messages/delivered", { token: bob.token, body: { messageIds: [] } })).status, 400);
      assert.equal((await call(server, "POST", "/api/messenger/messages/delivered", { token: bob.token, body: { messageIds: [987654] } })).status, 400);
      assert.equal((await call(server, "POST", "/api/messenger/messages/delivered", { token: bob.token, body: { messageIds: [m.id, 987654] } })).status, 400);
      assert.equal((await call(server, "POST", "/api/messenger/messages/delivered", { token: outsider.token, body: { messageIds: [m.id] } })).status, 400);
      const ok = await call(server, "POST", "/api/messenger/messages/delivered", { token: bob.token, body: { messageIds: [m.id] } });
      assert.equal(ok.status, 200);
      await call(server, "POST", "/api/messenger/messages/delivered", { token: bob.token, body: { messageIds: [m.id] } });
      const records = (await call(server, "GET", `/api/messenger/messages/${m.id}/message-records`, { token: alice.token })).body.data.messageRecords;
      assert.equal(records.filter((r: any) => r.userId === bob.user.id && r.type === "delivered").length, 1, "idempotent per user");
      const list = (await historyOf(alice, room)).list;
      assert.equal(list[0].deliveredCount, 2, "sender + bob");
      assert.equal(list[0].deliveredCount, list[0].totalUserCount);
    });

    it("concurrent delivered/seen from many users leave exact counters", async () => {
      const members = await Promise.all(Array.from({ length: 12 }, (_, i) => signUp(server, { displayName: `M${i}` })));
      const room = await newRoom(alice, ...members);
      const msgs = [await text(alice, room, "a"), await text(alice, room, "b")];
      const ids = msgs.map((m) => m.id);
      const answers = await Promise.all(
        members.flatMap((m) => [
          call(server, "POST", "/api/messenger/messages/delivered", { token: m.token, body: { messageIds: ids } }),
          call(server, "POST", "/api/messenger/messages/delivered", { token: m.token, body: { messageIds: ids } }),
          call(server, "POST", `/api/messenger/messages/${room}/seen`, { token: m.token }),
          call(server, "POST", `/api/messenger/messages/${room}/seen`, { token: m.token }),
        ]),
      );
      assert.deepEqual([...new Set(answers.map((a) => a.status))], [200], "every concurrent request succeeds");
      const list = (await historyOf(alice, room)).list.filter((m: any) => ids.includes(m.id));
      for (const m of list) {
        assert.equal(m.totalUserCount, 13);
        assert.equal(m.deliveredCount, 13, "delivered to all");
        assert.equal(m.seenCount, 13, "seen by all");
      }
    });
  });

  describe("edit", () => {
    it("checks text, existence, type, ownership; updates every copy and announces it", async () => {
      const room = await newRoom(alice, bob);
      const m = await text(alice, room, "v1");
      assert.equal((await call(server, "PUT", `/api/messenger/messages/${m.id}`, { token: alice.token, body: { text: "" } })).status, 400);
      assert.equal((await call(server, "PUT", `/api/messenger/messages/${m.id}`, { token: alice.token, body: {} })).status, 400);
      assert.equal((await call(server, "PUT", "/api/messenger/messages/987654", { token: alice.token, body: { text: "x" } })).status, 404);
      assert.equal((await call(server, "PUT", `/api/messenger/messages/${m.id}`, { token: bob.token, body: { text: "x" } })).status, 403);
      const fileId = await addFile(alice, "video/mp4");
      const video = (await send(alice, { roomId: room, type: "video", body: { fileId } })).body.data.message;
      assert.equal((await call(server, "PUT", `/api/messenger/messages/${video.id}`, { token: alice.token, body: { text: "x" } })).status, 400);
      const mark = server.events.events.length;
      const res = await call(server, "PUT", `/api/messenger/messages/${m.id}`, { token: alice.token, body: { text: "v2", hasLink: true } });
      assert.equal(res.status, 200);
      assert.equal(res.body.data.message.body.text, "v2");
      assert.equal(res.body.data.message.body.thumbnailData, null);
      assert.equal(res.body.data.message.hasLink, true);
      assert.ok(res.body.data.message.modifiedAt > m.modifiedAt);
      const bobCopy = (await historyOf(bob, room)).list.find((x: any) => x.id === m.id);
      assert.equal(bobCopy.body.text, "v2");
      const update = server.events.events.slice(mark).filter((e) => e.data.type === "UPDATE_MESSAGE");
      assert.equal(update.length, 1);
      assert.deepEqual([...update[0].userIds].sort(), [alice.user.id, bob.user.id].sort());
      const modified = await call(server, "GET", `/api/messenger/messages/sync/modified/${m.createdAt}`, { token: bob.token });
      assert.deepEqual(
        modified.body.data.list.map((x: any) => x.id),
        [m.id],
        "only edited/deleted copies appear in the modified sync",
      );
      assert.deepEqual(modified.body.data.messages, modified.body.data.list);
      await server.ctx.db.updateTable("messages").set({ isForwarded: 1 }).where("id", "=", m.id).execute();
      assert.equal((await call(server, "PUT", `/api/messenger/messages/${m.id}`, { token: alice.token, body: { text: "v3" } })).status, 400);
    });
  });

  describe("delete", () => {
    it("validates target, existence, ownership and membership", async () => {
      const room = await newRoom(alice, bob);
      const m = await text(alice, room, "x");
      assert.equal((await call(server, "DELETE", `/api/messenger/messages/${m.id}`, { token: alice.token })).status, 400);
      assert.equal((await call(server, "DELETE", `/api/messenger/messages/${m.id}?target=nobody`, { token: alice.token })).status, 400);
      assert.equal((await call(server, "DELETE", "/api/messenger/messages/987654?target=all", { token: alice.token })).status, 404);
      assert.equal((await call(server, "DELETE", `/api/messenger/messages/${m.id}?target=all`, { token: bob.token })).status, 403);
      assert.equal((await call(server, "DELETE", `/api/messenger/messages/${m.id}?target=user`, { token: outsider.token })).status, 403);
      assert.equal((await call(server, "DELETE", `/api/messenger/messages/${m.id}?target=ALL`, { token: alice.token })).status, 200);
      assert.equal((await call(server, "DELETE", `/api/messenger/messages/${m.id}?target=all`, { token: alice.token })).status, 200, "repeatable");
    });

    it("target=user deletes only the requester's copy; target=all everyone's", async () => {
      const room = await newRoom(alice, bob);
      const m = await text(alice, room, "secret");
      const mine = await call(server, "DELETE", `/api/messenger/messages/${m.id}?target=user`, { token: bob.token });
      assert.equal(mine.status, 200);
      assert.deepEqual(mine.body.data.message.body, { text: "Deleted message" });
      assert.equal(mine.body.data.message.deleted, true);
      assert.equal((await historyOf(bob, room)).list[0].deleted, true);
      assert.equal((await historyOf(alice, room)).list[0].body.text, "secret", "the other copies stay");
      const bobSync = await call(server, "GET", `/api/messenger/messages/sync/modified/${m.createdAt}`, { token: bob.token });
      assert.deepEqual(
        bobSync.body.data.list.map((x: any) => [x.id, x.deleted]),
        [[m.id, true]],
      );

      const fileId = await addFile(alice, "image/png");
      const img = (await send(alice, { roomId: room, type: "image", body: { fileId } })).body.data.message;
      const mark = server.events.events.length;
      const all = await call(server, "DELETE", `/api/messenger/messages/${img.id}?target=all`, { token: alice.token });
      assert.equal(all.status, 200);
      assert.equal(all.body.data.message.type, "text");
      assert.equal(all.body.data.message.deleted, true);
      assert.ok(all.body.data.message.modifiedAt > img.modifiedAt);
      const bobCopy = (await historyOf(bob, room)).list.find((x: any) => x.id === img.id);
      assert.deepEqual(bobCopy.body, { text: "Deleted message" });
      assert.equal(bobCopy.type, "text");
      const events = server.events.events.slice(mark).filter((e) => e.data.type === "DELETE_MESSAGE");
      assert.deepEqual([...events[0].userIds].sort(), [alice.user.id, bob.user.id].sort());
    });

    it("delete-many deletes all or nothing", async () => {
      const room = await newRoom(alice, bob);
      const a = await text(alice, room, "a");
      const b = await text(bob, room, "b");
      const refused = await call(server, "POST", "/api/messenger/messages/delete-many?target=all", { token: alice.token, body: { messageIds: [a.id, b.id] } });
      assert.equal(refused.status, 403);
      assert.equal((await historyOf(bob, room)).list.find((x: any) => x.id === a.id).deleted, false, "nothing deleted");
      const ok = await call(server, "POST", "/api/messenger/messages/delete-many?target=user", { token: alice.token, body: { messageIds: [a.id, b.id] } });
      assert.equal(ok.status, 200);
      assert.deepEqual(
        ok.body.data.messages.map((x: any) => x.deleted),
        [true, true],
      );
    });
  });

  describe("room history", () => {
    it("404 for unknown rooms and non-members; empty rooms give an empty list", async () => {
      assert.equal((await call(server, "GET", "/api/messenger/messages/roomId/987654", { token: alice.token })).status, 404);
      assert.equal((await call(server, "GET", `/api/messenger/messages/roomId/${groupId}`, { token: outsider.token })).status, 404);
      const room = (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { userIds: [outsider.user.id] } })).body.data.room.id;
      const h = await historyOf(alice, room);
      assert.deepEqual(h.list, []);
      assert.equal(h.count, 0);
      await text(alice, room, "one");
      const one = await historyOf(outsider, room);
      assert.equal(one.list.length, 1);
      assert.equal(one.count, 1);
    });

    it("pages newest first by cursor without repeats, by page, and down to a target", async () => {
      const room = await newRoom(alice, bob);
      const ids: number[] = [];
      for (let i = 0; i < 120; i++) ids.push((await text(alice, room, `m${i}`)).id);
      const all = [...ids].reverse();
      const p1 = await historyOf(bob, room);
      assert.equal(p1.limit, 50);
      assert.equal(p1.count, 121, "120 messages + created_group");
      assert.deepEqual(
        p1.list.map((m: any) => m.id),
        all.slice(0, 50),
      );
      assert.equal(p1.nextCursor, all[49]);
      const p2 = await historyOf(bob, room, `?cursor=${p1.nextCursor}`);
      assert.deepEqual(
        p2.list.map((m: any) => m.id),
        all.slice(50, 100),
      );
      const p3 = await historyOf(bob, room, `?cursor=${p2.nextCursor}`);
      assert.equal(p3.list.length, 21);
      assert.equal(p3.nextCursor, null);
      const byPage = await historyOf(bob, room, "?page=2");
      assert.deepEqual(
        byPage.list.map((m: any) => m.id),
        all.slice(50, 100),
      );
      const target = await historyOf(bob, room, `?targetMessageId=${ids[10]}`);
      assert.equal(target.list.at(-1).id, ids[10]);
      assert.equal(target.list.length, 110);
      assert.ok(p1.list.every((m: any) => Array.isArray(m.messageRecords)));
    });

    it("reading history marks the returned messages delivered", async () => {
      const room = await newRoom(alice, bob);
      const m = await text(alice, room, "read me");
      await historyOf(bob, room);
      const list = (await historyOf(alice, room)).list;
      assert.equal(list.find((x: any) => x.id === m.id).deliveredCount, 2);
    });
  });

  describe("sync", () => {
    it("validates parameters and returns this device's new copies after lastUpdate", async () => {
      assert.equal((await call(server, "GET", "/api/messenger/messages/sync/abc58", { token: bob.token })).status, 400);
      assert.equal((await call(server, "GET", "/api/messenger/messages/sync/modified/abc58", { token: bob.token })).status, 400);
      assert.equal((await call(server, "GET", "/api/messenger/messages/sync/0?page=x", { token: bob.token })).status, 400);
      const room = await newRoom(alice, bob);
      const old = await text(alice, room, "old");
      const mark = old.createdAt;
      while (Date.now() <= mark) await new Promise((r) => setImmediate(r));
      const fresh = await text(alice, room, "fresh");
      const res = await call(server, "GET", `/api/messenger/messages/sync/${mark}`, { token: bob.token });
      assert.equal(res.status, 200);
      const ids = res.body.data.list.map((m: any) => m.id);
      assert.ok(ids.includes(fresh.id));
      assert.ok(!ids.includes(old.id));
      assert.equal(res.body.data.limit, 100);
      assert.equal(res.body.data.hasNext, false);
      assert.deepEqual(res.body.data.messages, res.body.data.list);
      await call(server, "POST", `/api/messenger/rooms/${room}/leave`, { token: bob.token });
      const left = await call(server, "GET", `/api/messenger/messages/sync/${mark}`, { token: bob.token });
      assert.ok(!left.body.data.list.some((m: any) => m.roomId === room), "only rooms the user is in");
    });
  });
});
