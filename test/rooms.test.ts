// Rooms (§4.2–§4.12): creation rules, lists, detail, administration, leave, flags, sync.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { uploadFile } from "./uploads.js";

const eventsOf = (server: TestServer, type: string) => server.events.events.filter((e) => e.data.type === type);

describe("rooms", () => {
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp, carol: SignedUp, dave: SignedUp;
  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    alice = await signUp(server, { displayName: "Alice" });
    bob = await signUp(server, { displayName: "Bob" });
    carol = await signUp(server, { displayName: "Carol" });
    dave = await signUp(server, { displayName: "Dave" });
  });
  after(() => server.close());

  const create = (who: SignedUp, body: unknown) => call(server, "POST", "/api/messenger/rooms", { token: who.token, body });
  const group = async (body: Record<string, unknown> = {}) => {
    const res = await create(alice, { name: "Group", userIds: [bob.user.id, carol.user.id], ...body });
    assert.equal(res.status, 200, res.text);
    return res.body.data.room;
  };
  const put = (who: SignedUp, id: number, body: unknown) => call(server, "PUT", `/api/messenger/rooms/${id}`, { token: who.token, body });
  const history = async (who: SignedUp, roomId: number) => (await call(server, "GET", `/api/messenger/messages/roomId/${roomId}`, { token: who.token })).body.data.list;

  describe("POST /rooms", () => {
    it("validates every field's type", async () => {
      for (const body of [
        { name: [42] },
        { userIds: 42 },
        { userIds: ["string"] },
        { userIds: [true] },
        { adminUserIds: 42 },
        { adminUserIds: ["string"] },
        { avatarFileId: "[42]" },
        { type: 42 },
      ]) {
        const res = await create(alice, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.status, "error");
      }
    });

    it("requires existing users", async () => {
      assert.equal((await create(alice, { userIds: [987654] })).status, 400);
      assert.equal((await create(alice, { userIds: [bob.user.id, 987654] })).status, 400);
      assert.equal((await create(alice, { adminUserIds: [987654] })).status, 400);
    });

    it("a lone creator needs an explicit type (private needs 2 users); the room is named 'Private room'", async () => {
      const solo = await signUp(server, { displayName: "Solo" });
      assert.equal((await create(solo, {})).status, 400);
      const res = await create(solo, { type: "notes" });
      assert.equal(res.status, 200);
      assert.equal(res.body.data.room.name, "Private room");
      assert.equal(res.body.data.room.type, "notes");
    });

    it("two users make a private room named '' with flags and the creator as admin; a second one is 409", async () => {
      const erin = await signUp(server, { displayName: "Erin" });
      const res = await create(erin, { userIds: [dave.user.id] });
      assert.equal(res.status, 200);
      const room = res.body.data.room;
      assert.equal(room.type, "private");
      assert.equal(room.name, "");
      assert.equal(room.muted, false);
      assert.equal(room.pinned, false);
      assert.equal(room.unreadCount, 0);
      assert.deepEqual(room.users.map((u: any) => u.userId).sort(), [erin.user.id, dave.user.id].sort());
      assert.ok(room.users.find((u: any) => u.userId === erin.user.id).isAdmin);
      assert.equal(room.users.find((u: any) => u.userId === dave.user.id).user.displayName, "Dave");
      const again = await create(dave, { userIds: [erin.user.id] });
      assert.equal(again.status, 409);
      const detail = await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: dave.token });
      assert.deepEqual(detail.body.data.room.id, room.id);
      const withUser = await call(server, "GET", `/api/messenger/rooms/users/${erin.user.id}`, { token: dave.token });
      assert.equal(withUser.status, 200);
      assert.equal(withUser.body.data.room.id, room.id);
      const newRooms = eventsOf(server, "NEW_ROOM").filter((e) => (e.data.room as any).id === room.id);
      assert.deepEqual(newRooms.map((e) => e.userIds[0]).sort(), [erin.user.id, dave.user.id].sort());
    });

    it("explicit type and name are kept; a private room must have 2 users", async () => {
      const custom = await create(alice, { name: "Named", type: "channel", userIds: [bob.user.id] });
      assert.equal(custom.body.data.room.type, "channel");
      assert.equal(custom.body.data.room.name, "Named");
      assert.equal((await create(alice, { type: "private", userIds: [bob.user.id, carol.user.id] })).status, 400);
    });

    it("three users make a group 'Untitled room' with a created_group system message", async () => {
      const res = await create(alice, { userIds: [bob.user.id, carol.user.id] });
      const room = res.body.data.room;
      assert.equal(room.type, "group");
      assert.equal(room.name, "Untitled room");
      const list = await history(bob, room.id);
      assert.equal(list.length, 1);
      assert.equal(list[0].type, "system");
      assert.equal(list[0].body.type, "created_group");
      assert.equal(list[0].body.subjectId, alice.user.id);
      const detail = await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: bob.token });
      assert.equal(detail.body.data.room.unreadCount, 1, "the system message is unread for others");
      const own = await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: alice.token });
      assert.equal(own.body.data.room.unreadCount, 0, "but not for the actor");
    });

    it("outside team mode the other member of a private room must be a contact", async () => {
      const plain = await startTestServer();
      try {
        const a = await signUp(plain);
        const b = await signUp(plain);
        const refused = await call(plain, "POST", "/api/messenger/rooms", { token: a.token, body: { userIds: [b.user.id] } });
        assert.equal(refused.status, 400);
        await call(plain, "POST", "/api/messenger/contacts", { token: a.token, body: { contacts: [b.user.telephoneNumberHashed] } });
        const ok = await call(plain, "POST", "/api/messenger/rooms", { token: a.token, body: { userIds: [b.user.id] } });
        assert.equal(ok.status, 200);
      } finally {
        await plain.close();
      }
    });
  });

  describe("lists", () => {
    it("GET /rooms pages by 10, oldest first, and filters by name prefix", async () => {
      const frank = await signUp(server, { displayName: "Frank" });
      const ids: number[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await create(frank, { name: `Shared ${i}`, userIds: [bob.user.id, carol.user.id] });
        ids.push(r.body.data.room.id);
      }
      const p1 = await call(server, "GET", "/api/messenger/rooms", { token: frank.token });
      assert.equal(p1.body.data.limit, 10);
      assert.equal(p1.body.data.count, 12);
      assert.deepEqual(
        p1.body.data.list.map((r: any) => r.id),
        ids.slice(0, 10),
      );
      for (const room of p1.body.data.list) assert.ok(room.users.some((u: any) => u.userId === frank.user.id));
      const p2 = await call(server, "GET", "/api/messenger/rooms?page=2", { token: frank.token });
      assert.deepEqual(
        p2.body.data.list.map((r: any) => r.id),
        ids.slice(10),
      );
      const none = await call(server, "GET", "/api/messenger/rooms?keyword=zzqx", { token: frank.token });
      assert.deepEqual(none.body.data.list, []);
      assert.equal(none.body.data.count, 0);
      const some = await call(server, "GET", "/api/messenger/rooms?keyword=shared 1", { token: frank.token });
      assert.deepEqual(
        some.body.data.list.map((r: any) => r.id),
        [ids[1], ids[10], ids[11]],
      );
      const del = await call(server, "DELETE", `/api/messenger/rooms/${ids[0]}`, { token: frank.token });
      assert.equal(del.status, 200);
      const after = await call(server, "GET", "/api/messenger/rooms", { token: frank.token });
      assert.equal(after.body.data.count, 11, "deleted rooms are neither listed nor counted");
    });

    it("group-message-rooms lists the caller's groups by name with a cursor", async () => {
      const gina = await signUp(server, { displayName: "Gina" });
      const names = Array.from({ length: 23 }, (_, i) => `Team ${String(i).padStart(2, "0")}`);
      for (const name of [...names].reverse()) await create(gina, { name, userIds: [bob.user.id, carol.user.id] });
      await create(gina, { userIds: [dave.user.id] });
      const p1 = await call(server, "GET", "/api/messenger/group-message-rooms", { token: gina.token });
      assert.equal(p1.status, 200);
      assert.equal(p1.body.data.count, 23);
      assert.equal(p1.body.data.limit, 20);
      assert.deepEqual(
        p1.body.data.groupMessageRoomList.map((r: any) => r.name),
        names.slice(0, 20),
      );
      const cursor = p1.body.data.nextCursor;
      assert.equal(cursor, p1.body.data.groupMessageRoomList[19].id);
      const p2 = await call(server, "GET", `/api/messenger/group-message-rooms?cursor=${cursor}`, { token: gina.token });
      assert.deepEqual(
        p2.body.data.groupMessageRoomList.map((r: any) => r.name),
        names.slice(20),
      );
      assert.equal(p2.body.data.nextCursor, null);
      const kw = await call(server, "GET", "/api/messenger/group-message-rooms?keyword=am 1", { token: gina.token });
      assert.equal(kw.body.data.groupMessageRoomList.length, 10);
    });
  });

  describe("detail and private room lookup", () => {
    it("404 for unknown ids, non-members and non-numeric ids", async () => {
      const room = await group();
      assert.equal((await call(server, "GET", "/api/messenger/rooms/8851534158", { token: alice.token })).status, 404);
      assert.equal((await call(server, "GET", "/api/messenger/rooms/abc", { token: alice.token })).status, 404);
      assert.equal((await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: dave.token })).status, 404);
      assert.equal((await call(server, "GET", "/api/messenger/rooms/users/123456789", { token: alice.token })).status, 404);
      const hank = await signUp(server);
      assert.equal((await call(server, "GET", `/api/messenger/rooms/users/${hank.user.id}`, { token: alice.token })).status, 404);
    });
  });

  describe("PUT /rooms/:id", () => {
    it("checks room, type, admin and action in that order", async () => {
      const room = await group();
      assert.equal((await put(alice, 8851534158, { action: "changeGroupName", name: "x" })).status, 404);
      const priv = (await create(alice, { userIds: [dave.user.id] })).body.data.room;
      assert.equal((await put(alice, priv.id, { action: "changeGroupName", name: "x" })).status, 403);
      assert.equal((await put(bob, room.id, { action: "changeGroupName", name: "x" })).status, 403, "non-admin");
      assert.equal((await put(dave, room.id, { action: "changeGroupName", name: "x" })).status, 403, "non-member");
      assert.equal((await put(alice, room.id, {})).status, 400, "missing action");
      assert.equal((await put(alice, room.id, { action: "explode" })).status, 400, "unknown action");
      assert.equal((await put(alice, room.id, { action: "addGroupUsers", userIds: ["x"] })).status, 400);
    });

    it("addGroupUsers adds members who see only later messages and learn of the room", async () => {
      const room = await group();
      await call(server, "POST", "/api/messenger/messages", { token: alice.token, body: { roomId: room.id, type: "text", body: { text: "before" } } });
      const res = await put(alice, room.id, { action: "addGroupUsers", userIds: [dave.user.id, bob.user.id] });
      assert.equal(res.status, 200);
      assert.equal(res.body.data.room.users.length, 4);
      const seen = (await history(dave, room.id)).map((m: any) => m.body.type ?? m.body.text);
      assert.deepEqual(seen, ["added_group_members"], "the new member sees the system message, not older messages");
      const sys = (await history(alice, room.id))[0];
      assert.deepEqual(sys.body.objectIds, [dave.user.id]);
      const update = eventsOf(server, "UPDATE_ROOM").filter((e) => (e.data.room as any).id === room.id && e.userIds[0] === dave.user.id);
      assert.equal(update.length, 1, "the added member gets UPDATE_ROOM");
      assert.equal((await put(alice, room.id, { action: "addGroupUsers", userIds: [987654] })).status, 400);
    });

    it("removeGroupUsers removes non-admins only and tells them", async () => {
      const room = await group({ adminUserIds: [carol.user.id] });
      const res = await put(alice, room.id, { action: "removeGroupUsers", userIds: [bob.user.id, carol.user.id] });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data.room.users.map((u: any) => u.userId).sort(), [alice.user.id, carol.user.id].sort());
      const removed = eventsOf(server, "REMOVED_FROM_ROOM").filter((e) => e.data.roomId === room.id);
      assert.deepEqual(
        removed.map((e) => e.userIds),
        [[bob.user.id]],
      );
      assert.equal((await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: bob.token })).status, 404);
      assert.equal((await history(alice, room.id))[0].body.type, "removed_group_members");
    });

    it("addGroupAdmins / removeGroupAdmins keep at least one admin", async () => {
      const room = await group();
      const promoted = await put(alice, room.id, { action: "addGroupAdmins", userIds: [bob.user.id, dave.user.id] });
      assert.equal(promoted.status, 200);
      const admins = promoted.body.data.room.users
        .filter((u: any) => u.isAdmin)
        .map((u: any) => u.userId)
        .sort();
      assert.deepEqual(admins, [alice.user.id, bob.user.id].sort(), "non-members are ignored");
      assert.equal((await put(alice, room.id, { action: "removeGroupAdmins", userIds: [alice.user.id, bob.user.id] })).status, 400);
      const demoted = await put(alice, room.id, { action: "removeGroupAdmins", userIds: [bob.user.id] });
      assert.equal(demoted.status, 200);
      assert.deepEqual(
        demoted.body.data.room.users.filter((u: any) => u.isAdmin).map((u: any) => u.userId),
        [alice.user.id],
      );
      assert.equal(eventsOf(server, "REMOVED_FROM_ROOM").filter((e) => e.data.roomId === room.id).length, 0);
      assert.equal((await history(alice, room.id))[0].body.type, "removed_group_admins");
    });

    it("changeGroupName / changeGroupAvatar update the room and touch modifiedAt", async () => {
      const room = await group();
      const renamed = await put(alice, room.id, { action: "changeGroupName", name: "Renamed" });
      assert.equal(renamed.body.data.room.name, "Renamed");
      assert.ok(renamed.body.data.room.modifiedAt > room.modifiedAt);
      const file = await uploadFile(server, alice.token);
      const avatar = await put(alice, room.id, { action: "changeGroupAvatar", avatarFileId: file.id });
      assert.equal(avatar.body.data.room.avatarFileId, file.id);
      const types = (await history(bob, room.id)).map((m: any) => m.body.type);
      assert.deepEqual(types.slice(0, 2), ["updated_group_avatar", "updated_group_name"]);
      const same = await put(alice, room.id, { action: "changeGroupName", name: "Renamed" });
      assert.equal(same.status, 200);
      assert.equal((await history(bob, room.id)).length, types.length, "no system message when nothing changed");
      const detail = await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: bob.token });
      assert.equal(detail.body.data.room.name, "Renamed");
    });

    it("a room that grows past 2 members becomes a group", async () => {
      const room = (await create(alice, { type: "channel", name: "c", userIds: [bob.user.id] })).body.data.room;
      const res = await put(alice, room.id, { action: "addGroupUsers", userIds: [carol.user.id] });
      assert.equal(res.body.data.room.type, "group");
      assert.equal(res.body.data.room.users.length, 3);
    });
  });

  describe("DELETE /rooms/:id", () => {
    it("only admins delete group rooms; the room is flagged, refuses messages and is announced", async () => {
      const room = await group();
      assert.equal((await call(server, "DELETE", "/api/messenger/rooms/8851534158", { token: alice.token })).status, 404);
      assert.equal((await call(server, "DELETE", `/api/messenger/rooms/${room.id}`, { token: bob.token })).status, 403);
      const priv = (await create(alice, { type: "private", userIds: [carol.user.id] })).body;
      const privId = priv.data?.room?.id ?? (await call(server, "GET", `/api/messenger/rooms/users/${carol.user.id}`, { token: alice.token })).body.data.room.id;
      assert.equal((await call(server, "DELETE", `/api/messenger/rooms/${privId}`, { token: alice.token })).status, 403);
      const res = await call(server, "DELETE", `/api/messenger/rooms/${room.id}`, { token: alice.token });
      assert.equal(res.status, 200);
      assert.equal(res.body.data.room.deleted, true);
      const detail = await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: bob.token });
      assert.equal(detail.body.data.room.deleted, true, "deleted rooms are still returned by detail");
      const send = await call(server, "POST", "/api/messenger/messages", { token: bob.token, body: { roomId: room.id, type: "text", body: { text: "x" } } });
      assert.equal(send.status, 403);
      const deleted = eventsOf(server, "DELETE_ROOM").filter((e) => (e.data.room as any).id === room.id);
      assert.deepEqual(deleted.map((e) => e.userIds[0]).sort(), [alice.user.id, bob.user.id, carol.user.id].sort());
      assert.equal((await call(server, "DELETE", `/api/messenger/rooms/${room.id}`, { token: alice.token })).status, 200, "idempotent");
    });
  });

  describe("POST /rooms/:id/leave", () => {
    it("404 for unknown rooms and non-members; 403 for private rooms", async () => {
      const room = await group();
      assert.equal((await call(server, "POST", "/api/messenger/rooms/8851534158/leave", { token: alice.token, body: {} })).status, 404);
      assert.equal((await call(server, "POST", `/api/messenger/rooms/${room.id}/leave`, { token: dave.token, body: {} })).status, 404);
      const priv = (await create(bob, { userIds: [dave.user.id] })).body.data.room;
      assert.equal((await call(server, "POST", `/api/messenger/rooms/${priv.id}/leave`, { token: dave.token, body: {} })).status, 403);
    });

    it("a member leaves; the room no longer lists them, the others are told", async () => {
      const room = await group();
      const res = await call(server, "POST", `/api/messenger/rooms/${room.id}/leave`, { token: bob.token, body: {} });
      assert.equal(res.status, 200);
      assert.ok(!res.body.data.room.users.some((u: any) => u.userId === bob.user.id));
      assert.deepEqual(
        eventsOf(server, "REMOVED_FROM_ROOM")
          .filter((e) => e.data.roomId === room.id)
          .map((e) => e.userIds),
        [[bob.user.id]],
      );
      const last = (await history(alice, room.id))[0];
      assert.equal(last.body.type, "user_left_group");
      assert.equal(last.body.subjectId, bob.user.id);
    });

    it("the last admin must name a member as the new admin", async () => {
      const room = await group();
      assert.equal((await call(server, "POST", `/api/messenger/rooms/${room.id}/leave`, { token: alice.token, body: {} })).status, 400);
      const outsider = await call(server, "POST", `/api/messenger/rooms/${room.id}/leave`, { token: alice.token, body: { adminUserIds: [dave.user.id] } });
      assert.equal(outsider.status, 400, "non-members cannot be made admins");
      const res = await call(server, "POST", `/api/messenger/rooms/${room.id}/leave`, { token: alice.token, body: { adminUserIds: [carol.user.id] } });
      assert.equal(res.status, 200);
      const carolMember = res.body.data.room.users.find((u: any) => u.userId === carol.user.id);
      assert.equal(carolMember.isAdmin, true);
      const detail = await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: carol.token });
      assert.equal(detail.body.data.room.users.length, 2);
    });

    it("one of two admins leaves without naming anyone", async () => {
      const room = await group({ adminUserIds: [bob.user.id] });
      const res = await call(server, "POST", `/api/messenger/rooms/${room.id}/leave`, { token: alice.token });
      assert.equal(res.status, 200);
    });
  });

  describe("mute, pin and room sync", () => {
    it("mute/unmute/pin/unpin are idempotent, per user, and show up in detail and sync", async () => {
      const room = await group();
      assert.equal((await call(server, "POST", "/api/messenger/rooms/8851534158/mute", { token: alice.token })).status, 404);
      assert.equal((await call(server, "POST", `/api/messenger/rooms/${room.id}/mute`, { token: dave.token })).status, 404);
      const t0 = Date.now() - 1;
      const muted = await call(server, "POST", `/api/messenger/rooms/${room.id}/mute`, { token: bob.token });
      assert.equal(muted.status, 200);
      assert.equal(muted.body.data.room.muted, true);
      assert.equal((await call(server, "POST", `/api/messenger/rooms/${room.id}/mute`, { token: bob.token })).status, 200);
      const other = await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: alice.token });
      assert.equal(other.body.data.room.muted, false, "mute is per user");
      const pinned = await call(server, "POST", `/api/messenger/rooms/${room.id}/pin`, { token: bob.token });
      assert.equal(pinned.body.data.room.pinned, true);
      const settings = await call(server, "GET", "/api/messenger/me/settings", { token: bob.token });
      const keys = settings.body.data.settings.map((s: any) => s.key);
      assert.ok(keys.includes(`mute_${room.id}`) && keys.includes(`pin_${room.id}`));
      for (const flag of ["unmute", "unpin", "unmute", "unpin"]) {
        assert.equal((await call(server, "POST", `/api/messenger/rooms/${room.id}/${flag}`, { token: bob.token })).status, 200, flag);
      }
      const detail = await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: bob.token });
      assert.equal(detail.body.data.room.muted, false);
      assert.equal(detail.body.data.room.pinned, false);
      const sync = await call(server, "GET", `/api/messenger/rooms/sync/${t0}`, { token: bob.token });
      assert.ok(sync.body.data.list.some((r: any) => r.id === room.id));
      assert.deepEqual(sync.body.data.rooms, sync.body.data.list);
    });

    it("room sync validates its parameters and returns changed rooms only", async () => {
      assert.equal((await call(server, "GET", "/api/messenger/rooms/sync/abc58", { token: alice.token })).status, 400);
      assert.equal((await call(server, "GET", "/api/messenger/rooms/sync/0?page=x", { token: alice.token })).status, 400);
      const ivan = await signUp(server);
      const older = (await create(ivan, { name: "old", userIds: [bob.user.id, carol.user.id] })).body.data.room;
      const mark = Date.now() + 1;
      while (Date.now() <= mark) await new Promise((r) => setImmediate(r));
      const newer = (await create(ivan, { name: "new", userIds: [bob.user.id, carol.user.id] })).body.data.room;
      const sync = await call(server, "GET", `/api/messenger/rooms/sync/${mark}`, { token: ivan.token });
      assert.equal(sync.status, 200);
      assert.deepEqual(
        sync.body.data.list.map((r: any) => r.id),
        [newer.id],
      );
      assert.equal(sync.body.data.limit, 100);
      assert.equal(sync.body.data.hasNext, false);
      await put(ivan, older.id, { action: "changeGroupName", name: "old2" });
      const again = await call(server, "GET", `/api/messenger/rooms/sync/${mark}`, { token: ivan.token });
      assert.deepEqual(again.body.data.list.map((r: any) => r.id).sort(), [older.id, newer.id].sort());
    });

    it("unread-count lists rooms with unread messages only", async () => {
      const jane = await signUp(server);
      const room = (await create(jane, { userIds: [bob.user.id] })).body.data.room;
      await call(server, "POST", "/api/messenger/messages", { token: bob.token, body: { roomId: room.id, type: "text", body: { text: "hi" } } });
      const res = await call(server, "GET", "/api/messenger/rooms/unread-count", { token: jane.token });
      assert.deepEqual(res.body.data.unreadCounts, [{ roomId: room.id, unreadCount: 1 }]);
      await call(server, "POST", `/api/messenger/messages/${room.id}/seen`, { token: jane.token });
      const after = await call(server, "GET", "/api/messenger/rooms/unread-count", { token: jane.token });
      assert.deepEqual(after.body.data.unreadCounts, []);
    });
  });
});
