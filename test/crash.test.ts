// A crash in the middle of sending: the server (its own process) is killed with SIGKILL while
// messages are being sent, then restarted on the same database. Every message that got a 200
// must be in the room's history, and every message that exists must still get its webhook
// call (the job was committed with the message), once the receiver works again.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { call, signUp, testDatabase } from "./helpers.js";
import { addContacts, assertOk } from "./room-helpers.js";
import { Receiver, waitUntil } from "./receivers.js";
import { spawnServer, type ServerProcess } from "./spawn.js";

const SENDERS = 8;
const KILL_AFTER = 60;

/** Every message of the room, following the history cursor to the end. */
async function wholeHistory(server: { url: string }, token: string, roomId: number): Promise<any[]> {
  const all: any[] = [];
  let cursor: number | null = null;
  for (;;) {
    const page = assertOk(await call(server, "GET", `/api/messenger/messages/roomId/${roomId}${cursor ? `?cursor=${cursor}` : ""}`, { token }));
    const fresh = page.list.filter((m: any) => !all.some((x) => x.id === m.id));
    all.push(...fresh);
    if (!page.nextCursor || fresh.length === 0) return all;
    cursor = page.nextCursor;
  }
}

describe("crash while sending (kill -9, restart)", () => {
  it("every acknowledged message is kept and every kept message still gets its webhook", { timeout: 60_000 }, async () => {
    const receiver = await new Receiver().start();
    let failing = true;
    receiver.answer = () => (failing ? { status: 500, body: { error: "not yet" } } : { status: 200 });
    const db = await testDatabase();
    const env = {
      DATABASE_URL: db.url,
      UPLOAD_DIR: `${db.dataDir}/uploads`,
      WEBHOOK_ALLOW_PRIVATE: "1",
      JOB_RETRY_BASE_MS: "50",
      JOB_LEASE_MS: "2000",
    };
    let first: ServerProcess | undefined;
    let second: ServerProcess | undefined;
    try {
      first = await spawnServer(env);
      const server1 = { url: first.url };
      const [alice, bob] = await Promise.all([signUp(server1, { displayName: "Alice" }), signUp(server1, { displayName: "Bob" })]);
      await addContacts(server1, alice, bob);
      const room = assertOk(await call(server1, "POST", "/api/messenger/rooms", { token: alice.token, body: { name: "Crash", type: "group", userIds: [bob.user.id] } })).room;
      assertOk(await call(server1, "POST", `/api/messenger/webhooks/roomId/${room.id}`, { token: alice.token, body: { url: `${receiver.url}/hook` } }));

      // Senders in parallel until the server dies under them.
      const acked: any[] = [];
      let next = 0;
      let killed = false;
      const exited = new Promise<void>((resolve) => first!.child.once("exit", () => resolve()));
      const sender = async (who: typeof alice) => {
        while (!killed) {
          const n = next++;
          try {
            const res = await call(server1, "POST", "/api/messenger/messages", {
              token: who.token,
              body: { roomId: room.id, type: "text", body: { text: `crash ${n}` }, localId: `crash-${n}` },
            });
            if (res.status === 200) acked.push(res.body.data.message);
            else assert.fail(`send ${n}: ${res.status} ${res.text}`);
          } catch (err) {
            if (!killed) throw err;
          }
          if (acked.length >= KILL_AFTER && !killed) {
            killed = true;
            first!.child.kill("SIGKILL");
          }
        }
      };
      await Promise.all(Array.from({ length: SENDERS }, (_, i) => sender(i % 2 ? alice : bob)));
      await exited;
      assert.equal(first.child.signalCode, "SIGKILL");
      assert.ok(acked.length >= KILL_AFTER);

      second = await spawnServer(env);
      const server2 = { url: second.url };
      const kept = (await wholeHistory(server2, alice.token, room.id)).filter((m) => m.type === "text");
      const keptIds = new Set(kept.map((m) => m.id));
      for (const m of acked) assert.ok(keptIds.has(m.id), `acknowledged message ${m.id} (${m.body.text}) is kept`);
      // A retried send with the same localId finds the kept message instead of duplicating it.
      const again = assertOk(
        await call(server2, "POST", "/api/messenger/messages", {
          token: acked[0].fromUserId === alice.user.id ? alice.token : bob.token,
          body: { roomId: room.id, type: "text", body: { text: acked[0].body.text }, localId: acked[0].localId },
        }),
      ).message;
      assert.equal(again.id, acked[0].id);

      // The receiver comes back: every kept message's webhook call arrives.
      failing = false;
      await waitForAll(receiver, keptIds);
      for (const m of kept) {
        const hit = receiver.received.find((r) => r.status === 200 && r.json?.message?.id === m.id);
        assert.equal(hit?.json.message.body.text, m.body.text);
      }
    } finally {
      if (first && first.child.exitCode === null && first.child.signalCode === null) first.child.kill("SIGKILL");
      await second?.stop();
      await receiver.stop();
      await db.drop();
    }
  });
});

/** Resolves once a successful call has arrived for every id. */
async function waitForAll(receiver: Receiver, ids: Set<number>): Promise<void> {
  const delivered = () => new Set(receiver.received.filter((r) => r.status === 200 && ids.has(r.json?.message?.id)).map((r) => r.json.message.id)).size;
  try {
    await waitUntil(() => delivered() === ids.size, "webhook calls", 40_000);
  } catch {
    assert.fail(`webhook calls arrived for ${delivered()} of ${ids.size} kept messages`);
  }
}
