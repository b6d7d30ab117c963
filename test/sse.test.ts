// Real-time events over real SSE streams (§6): format, authentication, every event type to
// exactly its recipients, several streams per device, slow clients, shutdown, catch-up.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { addContacts } from "./room-helpers.js";
import { openStream, type SseEvent, type Stream } from "./sse-client.js";

describe("server-sent events", () => {
  let server: TestServer;
  let alice: SignedUp, alice2: SignedUp, bob: SignedUp, carol: SignedUp, outsider: SignedUp, zed: SignedUp;
  let streams: Record<string, Stream>;
  let barrierRoom: number;
  let barriers = 0;

  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    alice = await signUp(server, { displayName: "Alice" });
    alice2 = await signUp(server, { phone: alice.phone, deviceId: "alice-tablet" });
    bob = await signUp(server, { displayName: "Bob" });
    carol = await signUp(server, { displayName: "Carol" });
    outsider = await signUp(server, { displayName: "Outsider" });
    zed = await signUp(server, { displayName: "Zed" });
    barrierRoom = (
      await call(server, "POST", "/api/messenger/rooms", {
        token: zed.token,
        body: { name: "barrier", userIds: [alice.user.id, bob.user.id, carol.user.id, outsider.user.id] },
      })
    ).body.data.room.id;
    streams = {
      a1: await openStream(server.url, alice.token),
      a2: await openStream(server.url, alice2.token, "query"),
      b1: await openStream(server.url, bob.token, "queryCamel"),
      c1: await openStream(server.url, carol.token),
      o1: await openStream(server.url, outsider.token),
    };
  });
  after(async () => {
    for (const s of Object.values(streams)) s.close();
    await server.close();
  });

  const inBarrierRoom = (e: SseEvent) => e.message?.roomId === barrierRoom || e.messageRecord?.roomId === barrierRoom;

  /** Sends a barrier message that reaches every stream; returns where it landed in each. */
  async function barrier(): Promise<Record<string, number>> {
    const tag = `barrier-${++barriers}`;
    const sent = await call(server, "POST", "/api/messenger/messages", { token: zed.token, body: { roomId: barrierRoom, type: "text", body: { text: tag } } });
    assert.equal(sent.status, 200);
    const at: Record<string, number> = {};
    for (const [k, s] of Object.entries(streams)) {
      const hit = (e: SseEvent) => e.type === "NEW_MESSAGE" && e.message.body.text === tag;
      await s.next(hit);
      at[k] = s.events.findIndex(hit);
    }
    return at;
  }

  /**
   * Runs `action` between two barriers; streams deliver in order, so what each stream got
   * between them is exactly what the action sent it.
   */
  async function round(action: () => Promise<unknown>): Promise<Record<string, SseEvent[]>> {
    const start = await barrier();
    await action();
    const end = await barrier();
    const out: Record<string, SseEvent[]> = {};
    for (const [k, s] of Object.entries(streams)) out[k] = s.events.slice(start[k] + 1, end[k]).filter((e) => e.type !== "PING" && !inBarrierRoom(e));
    return out;
  }
  const types = (events: SseEvent[]) => events.map((e) => e.type);
  const privateRoom = async () => {
    const existing = await call(server, "GET", `/api/messenger/rooms/users/${bob.user.id}`, { token: alice.token });
    if (existing.status === 200) return existing.body.data.room.id as number;
    return (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { userIds: [bob.user.id] } })).body.data.room.id as number;
  };

  it("answers 401 with the envelope without a valid token", async () => {
    for (const path of ["/api/sse", "/api/sse?accesstoken=nope"]) {
      const res = await fetch(server.url + path);
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as any).status, "error");
    }
  });

  it("sends the headers and a PING at once, as single data lines", async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/sse/`, { headers: { accesstoken: bob.token }, signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.equal(res.headers.get("x-accel-buffering"), "no");
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.equal(first, 'data: {"type":"PING"}\n\n');
    controller.abort();
  });

  it("NEW_MESSAGE and the sender's records reach every device of the room but the sending one", async () => {
    const roomId = await privateRoom();
    const got = await round(() => call(server, "POST", "/api/messenger/messages", { token: alice.token, body: { roomId, type: "text", body: { text: "hi bob" } } }));
    assert.deepEqual(types(got.a1), ["NEW_MESSAGE_RECORD", "NEW_MESSAGE_RECORD"], "the sending device gets its records, not its message");
    assert.deepEqual(types(got.a2), ["NEW_MESSAGE", "NEW_MESSAGE_RECORD", "NEW_MESSAGE_RECORD"]);
    assert.deepEqual(types(got.b1), ["NEW_MESSAGE", "NEW_MESSAGE_RECORD", "NEW_MESSAGE_RECORD"]);
    assert.equal(got.b1[0].message.body.text, "hi bob");
    assert.equal(got.b1[1].totalUserCount, 2);
    assert.deepEqual(got.c1, []);
    assert.deepEqual(got.o1, []);
  });

  it("forwarded and shared messages reach every device of the sender, the requesting one included", async () => {
    const roomId = await privateRoom();
    const original = (await call(server, "POST", "/api/messenger/messages", { token: bob.token, body: { roomId, type: "text", body: { text: "to forward" } } })).body.data.message;
    const expected = ["NEW_MESSAGE", "NEW_MESSAGE_RECORD", "NEW_MESSAGE_RECORD"];
    for (const [path, body, text] of [
      ["forward", { messageIds: [original.id], roomIds: [roomId] }, "to forward"],
      ["share", { messages: [{ type: "text", body: { text: "shared" } }], roomIds: [roomId] }, "shared"],
    ] as const) {
      let created: any;
      const got = await round(async () => {
        created = (await call(server, "POST", `/api/messenger/messages/${path}`, { token: alice.token, body })).body.data.messages[0];
      });
      for (const stream of ["a1", "a2", "b1"]) {
        assert.deepEqual(types(got[stream]), expected, `${path}: ${stream}`);
        assert.equal(got[stream][0].message.id, created.id);
        assert.equal(got[stream][0].message.body.text, text);
        assert.equal(got[stream][0].message.isForwarded, true);
      }
      assert.deepEqual(got.c1, []);
    }
  });

  it("UPDATE_MESSAGE, reactions and deletions reach the holders of the message", async () => {
    const roomId = await privateRoom();
    const msg = (await call(server, "POST", "/api/messenger/messages", { token: alice.token, body: { roomId, type: "text", body: { text: "v1" } } })).body.data.message;
    const edit = await round(() => call(server, "PUT", `/api/messenger/messages/${msg.id}`, { token: alice.token, body: { text: "v2" } }));
    for (const k of ["a1", "a2", "b1"]) assert.deepEqual(types(edit[k]), ["UPDATE_MESSAGE"], k);
    assert.equal(edit.b1[0].message.body.text, "v2");
    assert.deepEqual([...edit.c1, ...edit.o1], []);

    let recordId = 0;
    const react = await round(async () => {
      recordId = (await call(server, "POST", "/api/messenger/message-records", { token: bob.token, body: { messageId: msg.id, reaction: "🔥" } })).body.data.messageRecord.id;
    });
    for (const k of ["a1", "a2", "b1"]) assert.deepEqual(types(react[k]), ["NEW_MESSAGE_RECORD"], k);
    assert.equal(react.a1[0].messageRecord.reaction, "🔥");
    assert.equal(typeof react.a1[0].seenCount, "number");
    const unreact = await round(() => call(server, "DELETE", `/api/messenger/message-records/${recordId}`, { token: bob.token }));
    for (const k of ["a1", "a2", "b1"]) assert.deepEqual(types(unreact[k]), ["DELETE_MESSAGE_RECORD"], k);
    assert.equal(unreact.b1[0].messageRecord.isDeleted, true);

    const mine = await round(() => call(server, "DELETE", `/api/messenger/messages/${msg.id}?target=user`, { token: bob.token }));
    assert.deepEqual(types(mine.b1), ["DELETE_MESSAGE"]);
    assert.deepEqual([...mine.a1, ...mine.a2], [], "deleting for oneself tells nobody else");
    const all = await round(() => call(server, "DELETE", `/api/messenger/messages/${msg.id}?target=all`, { token: alice.token }));
    for (const k of ["a1", "a2", "b1"]) assert.deepEqual(types(all[k]), ["DELETE_MESSAGE"], k);
    assert.deepEqual(all.a2[0].message.body, { text: "Deleted message" });
  });

  it("NEW_ROOM, UPDATE_ROOM, REMOVED_FROM_ROOM and DELETE_ROOM reach the members with their own flags", async () => {
    let roomId = 0;
    const created = await round(async () => {
      roomId = (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "live", userIds: [bob.user.id, carol.user.id] } })).body.data.room.id;
    });
    for (const k of ["a1", "a2", "b1", "c1"]) {
      assert.deepEqual(types(created[k]), ["NEW_MESSAGE", "NEW_MESSAGE_RECORD", "NEW_MESSAGE_RECORD", "NEW_ROOM"], k);
      assert.equal(created[k][3].room.id, roomId);
    }
    assert.equal(created.a1[0].message.body.type, "created_group", "system messages reach the actor's devices too");
    assert.equal(created.b1[3].room.unreadCount, 1);
    assert.equal(created.a1[3].room.unreadCount, 0);
    assert.deepEqual(created.o1, []);

    const added = await round(() => call(server, "PUT", `/api/messenger/rooms/${roomId}`, { token: alice.token, body: { action: "addGroupUsers", userIds: [outsider.user.id] } }));
    for (const k of ["a1", "a2", "b1", "c1", "o1"]) assert.ok(types(added[k]).includes("UPDATE_ROOM"), k);
    const removed = await round(() =>
      call(server, "PUT", `/api/messenger/rooms/${roomId}`, { token: alice.token, body: { action: "removeGroupUsers", userIds: [carol.user.id] } }),
    );
    assert.deepEqual(types(removed.c1), ["REMOVED_FROM_ROOM"]);
    assert.equal(removed.c1[0].roomId, roomId);
    assert.ok(types(removed.b1).includes("UPDATE_ROOM"));
    const muted = await round(() => call(server, "POST", `/api/messenger/rooms/${roomId}/mute`, { token: bob.token }));
    assert.equal(muted.b1.find((e) => e.type === "UPDATE_ROOM")!.room.muted, true);
    assert.equal(muted.a1.find((e) => e.type === "UPDATE_ROOM")!.room.muted, false, "each member gets their own flags");
    const pinned = await round(() => call(server, "POST", `/api/messenger/rooms/${roomId}/pin`, { token: bob.token }));
    const updated = (k: string) => pinned[k].find((e) => e.type === "UPDATE_ROOM")!.room;
    assert.deepEqual([updated("b1").muted, updated("b1").pinned], [true, true]);
    assert.deepEqual([updated("a1").muted, updated("a1").pinned], [false, false]);
    assert.equal(updated("b1").unreadCount, 3, "created_group, added and removed: bob read none");
    assert.equal(updated("a1").unreadCount, 0);
    for (const [k, who] of [
      ["a1", alice],
      ["a2", alice2],
      ["b1", bob],
      ["o1", outsider],
    ] as const) {
      const detail = (await call(server, "GET", `/api/messenger/rooms/${roomId}`, { token: who.token })).body.data.room;
      assert.deepEqual(updated(k), detail, `${k} gets the room as GET /rooms/:id shows it to that member`);
    }
    const deleted = await round(() => call(server, "DELETE", `/api/messenger/rooms/${roomId}`, { token: alice.token }));
    for (const k of ["a1", "a2", "b1", "o1"]) assert.deepEqual(types(deleted[k]), ["DELETE_ROOM"], k);
    assert.deepEqual(deleted.c1, []);
  });

  it("a room event arrives in the chunk of its tick, framed to the byte, its JSON the member's own view with each key once", async () => {
    const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    let raw = Buffer.alloc(0);
    socket.on("data", (d: Buffer) => (raw = Buffer.concat([raw, d])));
    socket.write(`GET /api/sse HTTP/1.1\r\nHost: x\r\naccesstoken: ${bob.token}\r\n\r\n`);
    /** The chunks of the body so far, each checked against its size line. */
    const chunks = (): string[] => {
      const out: string[] = [];
      let at = raw.indexOf("\r\n\r\n") + 4;
      while (at > 3 && raw.indexOf("\r\n", at) > 0) {
        const line = raw.indexOf("\r\n", at);
        const size = Number.parseInt(raw.toString("latin1", at, line), 16);
        if (raw.length < line + 2 + size + 2) break;
        assert.equal(raw.toString("latin1", line + 2 + size, line + 4 + size), "\r\n", "a chunk ends where its size says");
        out.push(raw.toString("utf8", line + 2, line + 2 + size));
        at = line + 4 + size;
      }
      return out;
    };
    try {
      while (chunks().length === 0) await new Promise((r) => setTimeout(r, 5));
      const room = (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "framed", userIds: [bob.user.id, carol.user.id] } })).body.data.room;
      let chunk: string | undefined;
      for (let i = 0; i < 200 && !chunk; i++) {
        chunk = chunks().find((c) => c.includes('"type":"NEW_ROOM"'));
        if (!chunk) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(chunk, "NEW_ROOM arrived");
      const frames = chunk.split("\n\n").filter(Boolean);
      assert.ok(
        frames.every((f) => f.startsWith("data: ")),
        chunk,
      );
      const types = frames.map((f) => JSON.parse(f.slice(6)).type);
      assert.deepEqual(types, ["NEW_MESSAGE", "NEW_MESSAGE_RECORD", "NEW_MESSAGE_RECORD", "NEW_ROOM"], "the events of the transaction, in one chunk");
      const json = frames[3].slice(6);
      for (const key of ["room", "users", "muted", "pinned", "unreadCount"]) assert.equal(json.split(`"${key}":`).length - 1, 1, `"${key}" once in ${json}`);
      // Compact JSON with a key twice would come back shorter: JSON.parse keeps one of them.
      assert.equal(JSON.stringify(JSON.parse(json)).length, json.length, "no key twice");
      const detail = (await call(server, "GET", `/api/messenger/rooms/${room.id}`, { token: bob.token })).body.data.room;
      assert.deepEqual(JSON.parse(json).room, detail);
    } finally {
      socket.destroy();
    }
  });

  it("SEEN_ROOM reaches the user's other devices only; USER_UPDATE reaches everyone in team mode", async () => {
    const roomId = await privateRoom();
    const seen = await round(() => call(server, "POST", `/api/messenger/messages/${roomId}/seen`, { token: alice.token }));
    assert.deepEqual(
      types(seen.a2).filter((t) => t === "SEEN_ROOM"),
      ["SEEN_ROOM"],
    );
    assert.ok(!types(seen.a1).includes("SEEN_ROOM"));
    assert.ok(!types(seen.b1).includes("SEEN_ROOM"));
    const renamed = await round(() => call(server, "PUT", "/api/messenger/me", { token: bob.token, body: { displayName: "Robert" } }));
    for (const k of Object.keys(streams)) {
      assert.deepEqual(types(renamed[k]), ["USER_UPDATE"], k);
      assert.equal(renamed[k][0].user.displayName, "Robert");
    }
  });

  it("a device may hold several streams; each gets every event, and a closed one is dropped at once", async () => {
    const extra = await openStream(server.url, bob.token);
    const before = server.ctx.hub.size;
    const roomId = await privateRoom();
    const mark = extra.events.length;
    await call(server, "POST", "/api/messenger/messages", { token: alice.token, body: { roomId, type: "text", body: { text: "to both" } } });
    await extra.next((e) => e.type === "NEW_MESSAGE" && e.message.body.text === "to both", { from: mark });
    await streams.b1.next((e) => e.type === "NEW_MESSAGE" && e.message.body.text === "to both");
    extra.close();
    while (server.ctx.hub.size >= before) await new Promise((r) => setTimeout(r, 5));
    assert.equal(server.ctx.hub.size, before - 1);
  });

  it("a client that closes its end of the connection is dropped, and the server closes its end too", { timeout: 10_000 }, async () => {
    const before = server.ctx.hub.size;
    const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(`GET /api/sse HTTP/1.1\r\nHost: x\r\naccesstoken: ${carol.token}\r\n\r\n`);
    await new Promise((r) => socket.once("data", r));
    assert.equal(server.ctx.hub.size, before + 1);
    socket.resume();
    const ended = new Promise((r) => socket.once("end", r));
    socket.end();
    await ended;
    while (server.ctx.hub.size > before) await new Promise((r) => setTimeout(r, 5));
    assert.equal(server.ctx.hub.size, before);
  });

  it("a client that stops reading is dropped instead of buffering without bound", async () => {
    const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(`GET /api/sse HTTP/1.1\r\nHost: x\r\naccesstoken: ${carol.token}\r\n\r\n`);
    await new Promise((r) => socket.once("data", r));
    socket.pause();
    const roomId = (await call(server, "POST", "/api/messenger/rooms", { token: zed.token, body: { userIds: [carol.user.id], name: "flood", type: "group" } })).body.data.room.id;
    const big = "x".repeat(200_000);
    const dropped = server.ctx.hub.dropped;
    for (let i = 0; i < 400 && server.ctx.hub.dropped === dropped; i++) {
      await call(server, "POST", "/api/messenger/messages", { token: zed.token, body: { roomId, type: "text", body: { text: big } } });
    }
    assert.equal(server.ctx.hub.dropped, dropped + 1, "the stalled stream was dropped");
    socket.destroy();
    const live = await round(() => call(server, "PUT", "/api/messenger/me", { token: carol.token, body: { displayName: "Caroline" } }));
    assert.deepEqual(types(live.c1), ["USER_UPDATE"], "carol's other stream is still served");
  });

  it("an HTTP/1.0 client gets bare frames, without chunk framing", async () => {
    const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    let raw = "";
    socket.on("data", (d: Buffer) => (raw += d.toString()));
    socket.write(`GET /api/sse HTTP/1.0\r\naccesstoken: ${outsider.token}\r\n\r\n`);
    const until = async (pattern: RegExp) => {
      for (let i = 0; i < 200 && !pattern.test(raw); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(raw, pattern);
    };
    await until(/\r\n\r\ndata: \{"type":"PING"\}\n\n/);
    await call(server, "PUT", "/api/messenger/me", { token: carol.token, body: { displayName: "Carol" } });
    await until(/"type":"USER_UPDATE"/);
    const [head, body] = raw.split("\r\n\r\n");
    assert.match(head, /^HTTP\/1\.[01] 200/);
    assert.doesNotMatch(head, /transfer-encoding/i);
    assert.match(body, /^data: \{"type":"PING"\}\n\ndata: \{"type":"USER_UPDATE",.*\}\n\n$/s, "bare SSE frames, no chunk sizes");
    socket.destroy();
  });

  it("a client that reconnects catches up through the sync endpoints and loses nothing", async () => {
    const roomId = await privateRoom();
    const syncStart = Date.now();
    streams.b1.close();
    const missed: number[] = [];
    for (let i = 0; i < 3; i++) {
      missed.push(
        (await call(server, "POST", "/api/messenger/messages", { token: alice.token, body: { roomId, type: "text", body: { text: `offline ${i}` } } })).body.data.message.id,
      );
    }
    const sync = await call(server, "GET", `/api/messenger/messages/sync/${syncStart - 1}`, { token: bob.token });
    const synced = sync.body.data.list.map((m: any) => m.id);
    for (const id of missed) assert.ok(synced.includes(id), `message ${id} comes back through sync`);
    streams.b1 = await openStream(server.url, bob.token);
    const live = (await call(server, "POST", "/api/messenger/messages", { token: alice.token, body: { roomId, type: "text", body: { text: "online again" } } })).body.data.message;
    const event = await streams.b1.next((e) => e.type === "NEW_MESSAGE" && e.message.id === live.id);
    assert.equal(event.message.body.text, "online again");
  });

  it("PINGs keep coming every 5 seconds", async () => {
    const s = await openStream(server.url, outsider.token);
    await s.next((e) => e.type === "PING");
    const first = s.events.length;
    await s.next((e) => e.type === "PING", { from: first, timeoutMs: 15000 });
    s.close();
  });

  it("closing the server ends open streams", async () => {
    const other = await startTestServer();
    const u = await signUp(other);
    const controller = new AbortController();
    const res = await fetch(`${other.url}/api/sse`, { headers: { accesstoken: u.token }, signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    await other.close();
    let done = false;
    while (!done) done = (await reader.read()).done;
    assert.ok(done, "the stream ended when the server closed");
  });
});

describe("room events in contact mode", () => {
  it("each member gets the member list with the contact details it may see, and its own flags", { timeout: 30_000 }, async () => {
    const server = await startTestServer();
    const streams: Stream[] = [];
    try {
      const [alice, bob, carol] = await Promise.all(["Alice", "Bob", "Carol"].map((displayName) => signUp(server, { displayName })));
      // Alice knows Bob and Carol; they know nobody.
      await addContacts(server, alice, bob, carol);
      const members = [alice, bob, carol];
      for (const who of members) streams.push(await openStream(server.url, who.token));
      const detail = async (who: SignedUp, roomId: number) => (await call(server, "GET", `/api/messenger/rooms/${roomId}`, { token: who.token })).body.data.room;
      const phoneOf = (room: any, who: SignedUp) => room.users.find((u: any) => u.userId === who.user.id).user.telephoneNumber;

      const room = (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "mixed", type: "group", userIds: [bob.user.id, carol.user.id] } })).body
        .data.room;
      const created = await Promise.all(streams.map((s) => s.next((e) => e.type === "NEW_ROOM" && e.room.id === room.id)));
      for (const [i, who] of members.entries()) assert.deepEqual(created[i].room, await detail(who, room.id), `NEW_ROOM as ${who.user.displayName} sees it`);
      assert.deepEqual(
        members.map((who) => phoneOf(created[1].room, who)),
        [null, bob.phone, null],
        "Bob sees his own number only",
      );
      assert.deepEqual(
        members.map((who) => phoneOf(created[2].room, who)),
        [null, null, carol.phone],
      );
      assert.deepEqual(
        members.map((who) => phoneOf(created[0].room, who)),
        [alice.phone, bob.phone, carol.phone],
      );

      // Now everybody knows everybody: one member list for all, each with its own flags.
      await addContacts(server, bob, alice, carol);
      await addContacts(server, carol, alice, bob);
      assert.equal((await call(server, "POST", `/api/messenger/rooms/${room.id}/mute`, { token: carol.token })).status, 200);
      const from = streams.map((s) => s.events.length);
      assert.equal((await call(server, "PUT", `/api/messenger/rooms/${room.id}`, { token: alice.token, body: { action: "changeGroupName", name: "known" } })).status, 200);
      const renamed = await Promise.all(streams.map((s, i) => s.next((e) => e.type === "UPDATE_ROOM" && e.room.name === "known", { from: from[i] })));
      for (const [i, who] of members.entries()) {
        assert.deepEqual(renamed[i].room, await detail(who, room.id), `UPDATE_ROOM as ${who.user.displayName} sees it`);
        assert.deepEqual(renamed[i].room.users, renamed[0].room.users, "the same member list");
        assert.equal(renamed[i].room.muted, who === carol);
      }
      assert.deepEqual(
        members.map((who) => phoneOf(renamed[1].room, who)),
        [alice.phone, bob.phone, carol.phone],
      );
    } finally {
      for (const s of streams) s.close();
      await server.close();
    }
  });
});

describe("streams per device (SSE_MAX_STREAMS_PER_DEVICE, default 5)", () => {
  /** A raw stream: resolves `ended` when the server ends the response cleanly. */
  async function rawStream(url: string, token: string) {
    const res = await fetch(`${url}/api/sse`, { headers: { accesstoken: token } });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    await reader.read(); // the first PING: the stream is registered
    const ended = (async () => {
      while (!(await reader.read()).done);
      return true;
    })();
    return { ended, cancel: () => reader.cancel().catch(() => {}) };
  }

  it("opening one stream more than the cap closes the device's oldest; the others keep their events", { timeout: 20_000 }, async () => {
    const server = await startTestServer({ TEAM_MODE: "1" });
    try {
      const owner = await signUp(server, { displayName: "Many" });
      const raw = [];
      for (let i = 0; i < 5; i++) raw.push(await rawStream(server.url, owner.token));
      const sixth = await openStream(server.url, owner.token);
      assert.equal(await raw[0].ended, true, "the oldest stream was ended");
      assert.equal(server.ctx.hub.size, 5);
      // The stream after it and the new one are still served.
      const renamed = await call(server, "PUT", "/api/messenger/me", { token: owner.token, body: { displayName: "Still here" } });
      assert.equal(renamed.status, 200);
      await sixth.next((e) => e.type === "USER_UPDATE" && e.user.displayName === "Still here");
      sixth.close();
      for (const r of raw) await r.cancel();
    } finally {
      await server.close();
    }
  });

  it("the cap is configurable, and counts per device, not per user", { timeout: 20_000 }, async () => {
    const server = await startTestServer({ SSE_MAX_STREAMS_PER_DEVICE: "1" });
    try {
      const phone = (await signUp(server)).phone;
      const one = await signUp(server, { phone, deviceId: "cap-one" });
      const two = await signUp(server, { phone, deviceId: "cap-two" });
      const first = await rawStream(server.url, one.token);
      const otherDevice = await rawStream(server.url, two.token);
      const second = await rawStream(server.url, one.token);
      assert.equal(await first.ended, true);
      assert.equal(server.ctx.hub.size, 2, "the other device's stream and the newest stay");
      for (const r of [otherDevice, second]) await r.cancel();
    } finally {
      await server.close();
    }
  });
});
