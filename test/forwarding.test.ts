// POST /messages/forward and POST /messages/share (§4.14): target resolution (rooms, users,
// private rooms opened on demand), the checks done before anything is written, blocks, the
// messages created and the events they publish.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { call, newPhone, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { assertError, assertOk, createRoom, eventsFrom, groupRoom, history, ofType, privateRoom, reaches, sendText } from "./room-helpers.js";

const FORWARD = "/api/messenger/messages/forward";
const SHARE = "/api/messenger/messages/share";

describe("forwarding", () => {
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp, carol: SignedUp, dave: SignedUp;
  let group: any; // alice (admin), bob, carol
  let seq = 0;

  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    [alice, bob, carol, dave] = await Promise.all(["Alice", "Bob", "Carol", "Dave"].map((displayName) => signUp(server, { displayName })));
    group = await groupRoom(server, alice, [bob, carol], "Source");
  });
  after(() => server.close());

  const someone = (name: string) => signUp(server, { displayName: name });
  const forward = (who: SignedUp | null, body: unknown) => call(server, "POST", FORWARD, { ...(who ? { token: who.token } : {}), body });
  const share = (who: SignedUp | null, body: unknown) => call(server, "POST", SHARE, { ...(who ? { token: who.token } : {}), body });
  const send = async (from: SignedUp, roomId: number, type: string, body: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    assertOk(await call(server, "POST", "/api/messenger/messages", { token: from.token, body: { roomId, type, body, ...extra } })).message;
  const block = async (who: SignedUp, other: SignedUp) => assertOk(await call(server, "POST", "/api/messenger/blocks", { token: who.token, body: { blockedId: other.user.id } }));
  const roomWith = (who: SignedUp, other: SignedUp) => call(server, "GET", `/api/messenger/rooms/users/${other.user.id}`, { token: who.token });
  async function newFile(owner: SignedUp) {
    const now = Date.now();
    const clientId = `fwd-${process.pid}-${++seq}`;
    return server.ctx.db
      .insertInto("files")
      .values({
        clientId,
        userId: owner.user.id,
        fileName: `f${seq}.png`,
        size: 42,
        mimeType: "image/png",
        type: "message",
        path: `/uploads/files/${clientId}`,
        sha256: "",
        createdAt: now,
        modifiedAt: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  describe("POST /messages/forward", () => {
    it("forwards to named rooms and to users, opening a private room (name '', no admins) where none exists", async () => {
      const erin = await someone("Erin");
      const pair = await privateRoom(server, alice, bob);
      const original = await send(carol, group.id, "text", { text: "read https://example.com/x" }, { hasLink: false, localId: "orig-1" });
      const events = eventsFrom(server);
      const data = assertOk(await forward(alice, { messageIds: [original.id], roomIds: [pair.id], userIds: [erin.user.id] }));
      const all = events();

      assert.equal(data.newRooms.length, 1);
      const opened = data.newRooms[0];
      assert.equal(opened.type, "private");
      assert.equal(opened.name, "");
      assert.deepEqual(opened.users.map((u: any) => u.userId).sort(), [alice.user.id, erin.user.id].sort());
      assert.ok(opened.users.every((u: any) => u.isAdmin === false));
      assert.equal(opened.users.find((u: any) => u.userId === erin.user.id).user.displayName, "Erin");
      assert.equal(opened.unreadCount, 0);
      assert.equal(opened.muted, false);
      assert.equal(opened.pinned, false);

      assert.equal(data.messages.length, 2);
      assert.deepEqual(
        data.messages.map((m: any) => m.roomId),
        [pair.id, opened.id],
      );
      for (const m of data.messages) {
        assert.equal(m.fromUserId, alice.user.id);
        assert.equal(m.type, "text");
        assert.deepEqual(m.body, { text: "read https://example.com/x" });
        assert.equal(m.isForwarded, true);
        assert.equal(m.hasLink, true, "computed from the text");
        assert.equal(m.replyId, null);
        assert.equal(m.localId, null);
        assert.equal(m.deleted, false);
        assert.equal(m.totalUserCount, 2);
        assert.notEqual(m.id, original.id);
      }

      // Stored: both sides see the room and the message.
      const erinsRoom = assertOk(await roomWith(erin, alice)).room;
      assert.equal(erinsRoom.id, opened.id);
      assert.deepEqual(
        (await history(server, erin, opened.id)).map((m) => m.id),
        [data.messages[1].id],
      );
      assert.equal((await history(server, bob, pair.id))[0].id, data.messages[0].id);
      assert.equal((await history(server, bob, pair.id))[0].isForwarded, true);

      // Events: NEW_ROOM to both members of the new room (before its message), NEW_MESSAGE to the
      // room members including the sending device (clients wait for it), the sender's records.
      const newRoom = ofType(all, "NEW_ROOM");
      assert.deepEqual(newRoom.map((e) => e.userIds).sort(), [[alice.user.id], [erin.user.id]].sort());
      assert.ok(newRoom.every((e) => (e.data.room as any).id === opened.id));
      const newMessages = ofType(all, "NEW_MESSAGE");
      assert.equal(newMessages.length, 2);
      const inOpened = newMessages.find((e) => (e.data.message as any).roomId === opened.id)!;
      assert.ok(all.indexOf(newRoom[0]) < all.indexOf(inOpened) && all.indexOf(newRoom[1]) < all.indexOf(inOpened));
      assert.ok(reaches(inOpened, erin));
      assert.ok(reaches(inOpened, alice), "to the sending device too");
      assert.deepEqual(inOpened.excludeDeviceIds, []);
      assert.equal((inOpened.data.message as any).isForwarded, true);
      const inPair = newMessages.find((e) => (e.data.message as any).roomId === pair.id)!;
      assert.ok(reaches(inPair, bob));
      assert.ok(!reaches(inPair, carol));
      assert.equal(ofType(all, "NEW_MESSAGE_RECORD").length, 4);
      assert.ok(ofType(all, "NEW_MESSAGE_RECORD").every((e) => (e.data.messageRecord as any).userId === alice.user.id));
    });

    it("reuses the existing private room with a user (no NEW_ROOM)", async () => {
      const frank = await someone("Frank");
      const pair = await privateRoom(server, frank, alice);
      const original = await sendText(server, bob, group.id, "reuse me");
      const events = eventsFrom(server);
      const data = assertOk(await forward(alice, { messageIds: [original.id], userIds: [frank.user.id] }));
      assert.deepEqual(data.newRooms, []);
      assert.deepEqual(
        data.messages.map((m: any) => m.roomId),
        [pair.id],
      );
      assert.equal(ofType(events(), "NEW_ROOM").length, 0);
      const again = assertOk(await forward(alice, { messageIds: [original.id], roomIds: [pair.id], userIds: [frank.user.id] }));
      assert.deepEqual(
        again.messages.map((m: any) => m.roomId),
        [pair.id],
        "a room named twice gets the message once",
      );
    });

    it("forwards several messages in chronological order, with the requester's body (file objects, no reply reference)", async () => {
      const gina = await someone("Gina");
      const file = await newFile(bob);
      const image = await send(bob, group.id, "image", { fileId: file.id, text: "caption" });
      const first = await sendText(server, carol, group.id, "first words");
      const reply = await send(carol, group.id, "text", { text: "a reply" }, { replyId: first.id });
      assert.equal(reply.body.referenceMessage.id, first.id);
      const data = assertOk(await forward(alice, { messageIds: [reply.id, image.id], userIds: [gina.user.id] }));
      assert.deepEqual(
        data.messages.map((m: any) => m.type),
        ["image", "text"],
      );
      const [img, txt] = data.messages;
      assert.equal(img.body.fileId, file.id);
      assert.equal(img.body.text, "caption");
      assert.equal(img.body.file.id, file.id);
      assert.equal(img.body.file.mimeType, "image/png");
      assert.equal(img.hasLink, false);
      assert.deepEqual(txt.body, { text: "a reply" });
      assert.equal(txt.replyId, null);
      const seen = await history(server, gina, data.newRooms[0].id);
      assert.deepEqual(
        seen.map((m) => m.id),
        [txt.id, img.id],
      );
      assert.equal(seen[1].body.file.id, file.id);
    });

    it("checks the messages: 404 unknown, 403 not in the room, 403 no copy (before joining / hidden); deleted and system messages are 400", async () => {
      const outsiderRoom = await groupRoom(server, bob, [dave], "Not alice's");
      const foreign = await sendText(server, bob, outsiderRoom.id, "not for alice");
      const early = await sendText(server, bob, outsiderRoom.id, "before alice joined");
      assertOk(await call(server, "PUT", `/api/messenger/rooms/${outsiderRoom.id}`, { token: bob.token, body: { action: "addGroupUsers", userIds: [alice.user.id] } }));
      const harry = await someone("Harry");
      const pair = await privateRoom(server, alice, harry);
      await block(alice, harry);
      const hidden = await sendText(server, harry, pair.id, "hidden from alice");
      assertOk(await call(server, "DELETE", `/api/messenger/blocks/userId/${harry.user.id}`, { token: alice.token }));
      const goneForAll = await sendText(server, bob, group.id, "gone for all");
      assertOk(await call(server, "DELETE", `/api/messenger/messages/${goneForAll.id}?target=all`, { token: bob.token }));
      const goneForMe = await sendText(server, bob, group.id, "gone for alice");
      assertOk(await call(server, "DELETE", `/api/messenger/messages/${goneForMe.id}?target=user`, { token: alice.token }));
      const system = (await history(server, alice, group.id)).find((m) => m.type === "system");
      const ok = await sendText(server, bob, group.id, "fine");
      const ivy = await someone("Ivy");

      const events = eventsFrom(server);
      const tries: Array<[number[], number, string?]> = [
        [[987654], 404, "Message not found"],
        [[ok.id, 987654], 404],
        [[foreign.id], 403, "No device message found"],
        [[early.id], 403, "No device message found"],
        [[hidden.id], 403, "No device message found"],
        [[goneForAll.id], 400],
        [[goneForMe.id], 400],
        [[system.id], 400],
      ];
      for (const [messageIds, status, text] of tries) {
        assertError(await forward(alice, { messageIds, userIds: [ivy.user.id], roomIds: [group.id] }), status, text);
      }
      assertError(await forward(dave, { messageIds: [ok.id], userIds: [ivy.user.id] }), 403, "User is not in room");
      assert.deepEqual(events(), [], "nothing was announced");
      assertError(await roomWith(ivy, alice), 404, undefined);
      assertError(await roomWith(ivy, dave), 404, undefined);
      assert.equal((await history(server, alice, group.id))[0].id, ok.id, "nothing was posted");
    });

    it("checks the target rooms before writing: unknown, not a member, deleted → 400", async () => {
      const jack = await someone("Jack");
      const ok = await sendText(server, bob, group.id, "target checks");
      const notMine = await groupRoom(server, bob, [dave], "Without alice");
      const doomed = await groupRoom(server, alice, [bob], "Doomed");
      assertOk(await call(server, "DELETE", `/api/messenger/rooms/${doomed.id}`, { token: alice.token }));
      const events = eventsFrom(server);
      assertError(await forward(alice, { messageIds: [ok.id], roomIds: [group.id, 987654], userIds: [jack.user.id] }), 400, "987654");
      assertError(await forward(alice, { messageIds: [ok.id], roomIds: [notMine.id], userIds: [jack.user.id] }), 400, "not in one or more rooms");
      assertError(await forward(alice, { messageIds: [ok.id], roomIds: [doomed.id], userIds: [jack.user.id] }), 400, String(doomed.id));
      assert.deepEqual(events(), []);
      assertError(await roomWith(jack, alice), 404);
      assert.equal((await history(server, alice, group.id))[0].id, ok.id);
    });

    it("skips unknown, unverified and deleted users and the requester", async () => {
      const gone = await someone("Gone");
      assertOk(await call(server, "DELETE", "/api/messenger/me", { token: gone.token }));
      const phone = newPhone();
      assertOk(await call(server, "POST", "/api/messenger/auth", { body: { telephoneNumber: phone, deviceId: `unverified-${process.pid}` } }));
      const unverified = await server.ctx.db.selectFrom("users").select("id").where("telephoneNumber", "=", phone).executeTakeFirstOrThrow();
      const ok = await sendText(server, bob, group.id, "skip them");
      const events = eventsFrom(server);
      const data = assertOk(await forward(alice, { messageIds: [ok.id], userIds: [987654, gone.user.id, unverified.id, alice.user.id] }));
      assert.deepEqual(data, { messages: [], newRooms: [] });
      assert.deepEqual(events(), []);
    });

    it("skips private rooms whose peer the requester blocked (no room is opened either)", async () => {
      const kim = await someone("Kim");
      const leo = await someone("Leo");
      const pair = await privateRoom(server, alice, kim);
      await block(alice, kim);
      await block(alice, leo);
      const ok = await sendText(server, bob, group.id, "not to blocked users");
      const data = assertOk(await forward(alice, { messageIds: [ok.id], roomIds: [pair.id, group.id], userIds: [kim.user.id, leo.user.id] }));
      assert.deepEqual(
        data.messages.map((m: any) => m.roomId),
        [group.id],
      );
      assert.deepEqual(data.newRooms, []);
      assertError(await roomWith(leo, alice), 404);
      assert.deepEqual(await history(server, kim, pair.id), []);
    });

    it("a peer who blocked the requester gets no copy and no event", async () => {
      const mia = await someone("Mia");
      const pair = await privateRoom(server, alice, mia);
      await block(mia, alice);
      const ok = await sendText(server, bob, group.id, "to a blocker");
      const events = eventsFrom(server);
      const data = assertOk(await forward(alice, { messageIds: [ok.id], userIds: [mia.user.id] }));
      assert.deepEqual(
        data.messages.map((m: any) => m.roomId),
        [pair.id],
      );
      assert.ok(ofType(events(), "NEW_MESSAGE").every((e) => !reaches(e, mia)));
      assert.deepEqual(await history(server, mia, pair.id), []);
      assert.equal((await history(server, alice, pair.id))[0].id, data.messages[0].id);
    });

    it("validates the body (400) and requires a token (401)", async () => {
      const ok = await sendText(server, bob, group.id, "body checks");
      for (const body of [
        {},
        { messageIds: [] },
        { messageIds: "1" },
        { messageIds: ["1"] },
        { messageIds: [0] },
        { messageIds: [ok.id], roomIds: ["1"] },
        { messageIds: [ok.id], userIds: [1.5] },
        { messageIds: [ok.id], roomIds: 3 },
      ]) {
        assertError(await forward(alice, body), 400);
      }
      assertError(await forward(null, { messageIds: [ok.id] }), 401);
    });
  });

  describe("POST /messages/share", () => {
    it("creates forwarded messages from the given bodies in rooms and private rooms with users", async () => {
      const nina = await someone("Nina");
      const file = await newFile(alice);
      const events = eventsFrom(server);
      const data = assertOk(
        await share(alice, {
          roomIds: [group.id],
          userIds: [nina.user.id],
          messages: [
            { type: "text", body: { text: "look www.example.org" } },
            { type: "image", body: { fileId: file.id, text: "pic", file: { forged: true } } },
            { type: "text", body: { text: "plain" } },
          ],
        }),
      );
      assert.equal(data.newRooms.length, 1);
      const opened = data.newRooms[0];
      assert.equal(opened.type, "private");
      assert.equal(opened.name, "");
      assert.deepEqual(
        data.messages.map((m: any) => [m.roomId, m.type]),
        [
          [group.id, "text"],
          [opened.id, "text"],
          [group.id, "image"],
          [opened.id, "image"],
          [group.id, "text"],
          [opened.id, "text"],
        ],
      );
      assert.ok(data.messages.every((m: any) => m.isForwarded && m.fromUserId === alice.user.id && m.replyId === null && m.localId === null));
      assert.deepEqual(
        data.messages.map((m: any) => m.hasLink),
        [true, true, false, false, false, false],
      );
      assert.equal(data.messages[2].body.file.id, file.id);
      assert.equal(data.messages[2].body.file.forged, undefined);
      const seen = await history(server, nina, opened.id);
      assert.deepEqual(
        seen.map((m) => m.body.text),
        ["plain", "pic", "look www.example.org"],
      );
      const all = events();
      assert.deepEqual(
        ofType(all, "NEW_ROOM")
          .map((e) => e.userIds)
          .sort(),
        [[alice.user.id], [nina.user.id]].sort(),
      );
      const news = ofType(all, "NEW_MESSAGE");
      assert.equal(news.length, 6);
      assert.ok(news.filter((e) => (e.data.message as any).roomId === group.id).every((e) => reaches(e, bob) && reaches(e, carol) && reaches(e, alice)));
    });

    it("validates every message (§2.6) and every room before creating anything", async () => {
      const olga = await someone("Olga");
      const bobsFile = await newFile(bob);
      const mine = await newFile(alice);
      const notMine = await groupRoom(server, bob, [dave], "Share target without alice");
      const good = { type: "text", body: { text: "good" } };
      const events = eventsFrom(server);
      const bad: Array<[unknown, number]> = [
        [{ userIds: [olga.user.id] }, 400],
        [{ userIds: [olga.user.id], messages: [] }, 400],
        [{ userIds: [olga.user.id], messages: [good, { type: "text" }] }, 400],
        [{ userIds: [olga.user.id], messages: [good, { body: { text: "x" } }] }, 400],
        [{ userIds: [olga.user.id], messages: [good, { type: "text", body: {} }] }, 400],
        [{ userIds: [olga.user.id], messages: [good, { type: "text", body: { text: "" } }] }, 400],
        [{ userIds: [olga.user.id], messages: [good, { type: "system", body: { text: "x" } }] }, 400],
        [{ userIds: [olga.user.id], messages: [good, { type: "sticker", body: { text: "x" } }] }, 400],
        [{ userIds: [olga.user.id], messages: [good, { type: "image", body: {} }] }, 400],
        [{ userIds: [olga.user.id], messages: [good, { type: "image", body: { fileId: 987654 } }] }, 400],
        [{ userIds: [olga.user.id], messages: [good, { type: "image", body: { fileId: bobsFile.id } }] }, 400],
        [{ userIds: [olga.user.id], messages: [good, { type: "video", body: { fileId: mine.id, thumbId: 987654 } }] }, 400],
        [{ userIds: [olga.user.id], roomIds: [987654], messages: [good] }, 400],
        [{ userIds: [olga.user.id], roomIds: [notMine.id], messages: [good] }, 400],
        [{ userIds: [olga.user.id], roomIds: ["x"], messages: [good] }, 400],
      ];
      for (const [body, status] of bad) assertError(await share(alice, body), status);
      assert.deepEqual(events(), []);
      assertError(await roomWith(olga, alice), 404);
      assertError(await share(null, { messages: [good] }), 401);
    });

    it("skips unknown and deleted users, the requester and blocked peers", async () => {
      const pat = await someone("Pat");
      await block(alice, pat);
      const data = assertOk(await share(alice, { userIds: [987654, alice.user.id, pat.user.id], messages: [{ type: "text", body: { text: "nobody" } }] }));
      assert.deepEqual(data, { messages: [], newRooms: [] });
      assertError(await roomWith(pat, alice), 404);
    });

    it("refuses requests that would create more than 500 messages", async () => {
      const rooms = await Promise.all(Array.from({ length: 11 }, (_, i) => groupRoom(server, alice, [bob], `Many ${i}`)));
      const messages = Array.from({ length: 46 }, (_, i) => ({ type: "text", body: { text: `bulk ${i}` } }));
      const events = eventsFrom(server);
      assertError(await share(alice, { roomIds: rooms.map((r) => r.id), messages }), 400);
      assert.deepEqual(events(), []);
      const fits = assertOk(await share(alice, { roomIds: rooms.slice(0, 10).map((r) => r.id), messages: messages.slice(0, 50) }));
      assert.equal(fits.messages.length, 460);
    });
  });
});

describe("forwarding outside team mode", () => {
  let server: TestServer;
  let alice: SignedUp, bob: SignedUp, carol: SignedUp;
  before(async () => {
    server = await startTestServer({ TEAM_MODE: "0" });
    [alice, bob, carol] = await Promise.all(["Alice", "Bob", "Carol"].map((displayName) => signUp(server, { displayName })));
  });
  after(() => server.close());

  const hash = (phone: string) => createHash("sha256").update(phone, "utf8").digest("hex");
  const addContacts = async (who: SignedUp, ...others: SignedUp[]) =>
    assertOk(await call(server, "POST", "/api/messenger/contacts", { token: who.token, body: { contacts: others.map((o) => hash(o.phone)) } }));

  it("opens private rooms only with contacts (others are skipped) but reuses existing ones", async () => {
    await addContacts(alice, bob);
    await addContacts(carol, alice);
    // Carol, who is not Alice's contact, is only added by herself (a stranger cannot be added).
    const room = await createRoom(server, carol, { name: "Source", type: "group", userIds: [alice.user.id], adminUserIds: [alice.user.id] });
    assertOk(await call(server, "PUT", `/api/messenger/rooms/${room.id}`, { token: alice.token, body: { action: "addGroupUsers", userIds: [bob.user.id] } }));
    const msg = await sendText(server, bob, room.id, "pass it on");

    const skipped = assertOk(await call(server, "POST", FORWARD, { token: alice.token, body: { messageIds: [msg.id], userIds: [carol.user.id] } }));
    assert.deepEqual(skipped, { messages: [], newRooms: [] }, "carol is not alice's contact");

    const toContact = assertOk(await call(server, "POST", FORWARD, { token: alice.token, body: { messageIds: [msg.id], userIds: [bob.user.id] } }));
    assert.equal(toContact.newRooms.length, 1);
    assert.deepEqual(
      toContact.messages.map((m: any) => m.roomId),
      [toContact.newRooms[0].id],
    );

    const existing = assertOk(await call(server, "POST", "/api/messenger/rooms", { token: carol.token, body: { userIds: [alice.user.id] } })).room;
    const reused = assertOk(await call(server, "POST", SHARE, { token: alice.token, body: { userIds: [carol.user.id], messages: [{ type: "text", body: { text: "hi" } }] } }));
    assert.deepEqual(reused.newRooms, []);
    assert.deepEqual(
      reused.messages.map((m: any) => m.roomId),
      [existing.id],
    );
  });
});
