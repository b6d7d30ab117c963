// On PostgreSQL, every statement of the hot paths (authenticating a fresh token, sending a
// one-to-one message) must find its rows through an index once the tables are big: a plan that is
// cheap on SQLite can be a sequential scan on PostgreSQL. The statements are recorded as the
// server runs them (whatever their text becomes), then explained on a database of realistic size.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { call, engine, type Res, signUp, startTestServer, type TestServer } from "./helpers.js";

/**
 * The tables seeded big below: a sequential scan of any of them is a plan that does not scale.
 * (The planner rightly scans the small ones, e.g. an empty blocks or jobs table.)
 */
const BIG = new Set(["users", "devices", "rooms", "room_users", "messages", "message_records"]);

function seqScans(plan: any, found: string[] = []): string[] {
  if (plan["Node Type"] === "Seq Scan" && BIG.has(plan["Relation Name"])) found.push(plan["Relation Name"]);
  for (const child of plan.Plans ?? []) seqScans(child, found);
  return found;
}

describe("PostgreSQL plans of the hot statements", { skip: engine === "postgres" ? false : "PostgreSQL only (DATABASE_URL=postgres://…)" }, () => {
  let server: TestServer;
  let admin: pg.Client;

  before(async () => {
    server = await startTestServer({ TEAM_MODE: "1" });
    admin = new pg.Client({ connectionString: server.ctx.config.databaseUrl });
    await admin.connect();
    // 20,000 users with a device each, 20,000 private rooms of two, 100,000 messages with records.
    const now = Date.now();
    await admin.query(`insert into users (telephone_number, display_name, verified, created_at, modified_at)
      select '+1999' || g, 'seed ' || g, 1, ${now}, ${now} from generate_series(1, 20000) g`);
    await admin.query(`insert into devices (user_id, device_id, token_hash, token_expired_at, created_at, modified_at)
      select id, 'seed-' || id, 'seed-' || id, ${now + 86_400_000}, ${now}, ${now} from users where telephone_number like '+1999%'`);
    await admin.query(`insert into rooms (type, created_at, modified_at) select 'private', ${now}, ${now} from generate_series(1, 20000)`);
    await admin.query(`insert into room_users (room_id, user_id, settings_modified_at, created_at, modified_at)
      select r.id, u.id, ${now}, ${now}, ${now} from (select id, row_number() over (order by id) n from rooms) r
      join (select id, row_number() over (order by id) n from users where telephone_number like '+1999%') u on u.n in (r.n, r.n % 20000 + 1)`);
    await admin.query(`insert into messages (room_id, from_user_id, type, body, total_user_count, created_at, modified_at)
      select ru.room_id, ru.user_id, 'text', '{"text":"seed"}', 2, ${now}, ${now} from room_users ru, generate_series(1, 3) g`);
    await admin.query(`insert into message_records (message_id, room_id, user_id, type, created_at, modified_at)
      select id, room_id, from_user_id, 'seen', ${now}, ${now} from messages`);
    await admin.query("analyze");
  });
  after(async () => {
    await admin?.end();
    await server?.close();
  });

  /** The statements the server's pool runs during `fn` (observed, not changed). */
  async function recorded(fn: () => Promise<void>): Promise<Array<{ text: string; values: unknown[] }>> {
    const seen: Array<{ text: string; values: unknown[] }> = [];
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: any[]) {
      const [q, v] = args;
      const text = typeof q === "string" ? q : q?.text;
      if (this !== admin && typeof text === "string" && /^\s*(select|update|delete|insert)/i.test(text)) seen.push({ text, values: (typeof q === "string" ? v : q.values) ?? [] });
      return (original as any).apply(this, args);
    } as typeof original;
    try {
      await fn();
    } finally {
      pg.Client.prototype.query = original;
    }
    return seen;
  }

  /**
   * Rows the executor handled for `plan` (EXPLAIN ANALYZE): every node's output and the rows its
   * filters dropped, times its loops. A nested loop that rescans a set per row shows here.
   */
  function rowsHandled(plan: any): number {
    const own = (plan["Actual Rows"] + (plan["Rows Removed by Filter"] ?? 0) + (plan["Rows Removed by Join Filter"] ?? 0)) * plan["Actual Loops"];
    return own + (plan.Plans ?? []).reduce((sum: number, child: any) => sum + rowsHandled(child), 0);
  }

  /** The statements of `seen` whose plan, or generic plan, scans a big table. */
  async function scanningBigTables(seen: Array<{ text: string; values: unknown[] }>): Promise<string[]> {
    const bad: string[] = [];
    await admin.query("begin");
    try {
      for (const [i, { text, values }] of seen.entries()) {
        const { rows } = await admin.query(`explain (format json) ${text}`, values);
        const scans = seqScans(rows[0]["QUERY PLAN"][0].Plan);
        if (scans.length) bad.push(`${scans.join(", ")}: ${text}`);
        // The hot statements run as named prepared statements (src/db/prepared.ts), for which
        // PostgreSQL may switch to a generic plan (one plan for any parameters) after five
        // executions: that plan must use the indexes too.
        await admin.query(`prepare plan_${i} as ${text}`);
        await admin.query("set local plan_cache_mode = force_generic_plan");
        const literal = (v: unknown) => (v === null || v === undefined ? "null" : typeof v === "number" ? String(v) : admin.escapeLiteral(String(v)));
        const generic = await admin.query(`explain (format json) execute plan_${i}${values.length ? `(${values.map(literal).join(", ")})` : ""}`);
        await admin.query("set local plan_cache_mode = auto");
        const genericScans = seqScans(generic.rows[0]["QUERY PLAN"][0].Plan);
        if (genericScans.length) bad.push(`generic plan: ${genericScans.join(", ")}: ${text}`);
      }
    } finally {
      await admin.query("rollback");
      await admin.query("deallocate all"); // prepared statements outlive the transaction
    }
    return bad;
  }

  it("authenticating a fresh token and sending a one-to-one message use indexes only", { timeout: 60_000 }, async () => {
    const [alice, bob] = [await signUp(server, { displayName: "Alice" }), await signUp(server, { displayName: "Bob" })];
    const room = (await call(server, "POST", "/api/messenger/rooms", { token: alice.token, body: { userIds: [bob.user.id] } })).body.data.room;
    await server.ctx.bus.revoke({ userIds: [alice.user.id] }); // the send authenticates from the database

    let sent: Res | undefined;
    const seen = await recorded(async () => {
      sent = await call(server, "POST", "/api/messenger/messages", { token: alice.token, body: { roomId: room.id, type: "text", body: { text: "plan" } } });
    });
    assert.equal(sent?.status, 200, sent?.text);
    assert.ok(seen.length >= 4, `recorded ${seen.length} statements`);
    assert.deepEqual(await scanningBigTables(seen), [], "statements that scan a big table");
  });

  it("a device catching up on 2,000 messages pages every sync by indexes only", { timeout: 60_000 }, async () => {
    // The device was created before the messages (it holds copies of them) and never synced;
    // the messages and their receipts are written as the send path writes them.
    const [carol, dave] = [await signUp(server, { displayName: "Carol" }), await signUp(server, { displayName: "Dave" })];
    const room = (await call(server, "POST", "/api/messenger/rooms", { token: carol.token, body: { name: "catch-up", userIds: [dave.user.id] } })).body.data.room;
    const later = Date.now() + 1000;
    await admin.query(
      `insert into messages (room_id, from_user_id, type, body, total_user_count, created_at, modified_at)
       select $1, $2, 'text', '{"text":"catch up"}', 2, $3::bigint + g, $3::bigint + g from generate_series(1, 2000) g`,
      [room.id, carol.user.id, later],
    );
    await admin.query(
      `insert into message_records (message_id, room_id, user_id, type, created_at, modified_at)
       select m.id, m.room_id, m.from_user_id, t, m.created_at, m.created_at from messages m, unnest(array['delivered', 'seen']) t where m.room_id = $1`,
      [room.id],
    );
    await admin.query("analyze");

    const pages: Array<[string, number]> = [];
    const seen = await recorded(async () => {
      for (const path of ["messages/sync/0", "messages/sync/modified/0", "message-records/sync/0"]) {
        for (const page of [1, 2, 50]) {
          const res = await call(server, "GET", `/api/messenger/${path}?page=${page}`, { token: dave.token });
          assert.equal(res.status, 200, res.text);
          pages.push([`${path}?page=${page}`, res.body.data.count]);
        }
      }
    });
    // The counts are exact on every page, past the end too (the separate count).
    assert.deepEqual(
      pages.map(([path, count]) => `${path} ${count}`),
      ["messages/sync/0", "messages/sync/modified/0", "message-records/sync/0"].flatMap((path) =>
        [1, 2, 50].map((page) => `${path}?page=${page} ${path === "messages/sync/0" ? 2000 : path === "message-records/sync/0" ? 4000 : 0}`),
      ),
    );
    assert.deepEqual(await scanningBigTables(seen), [], "statements that scan a big table");
    // A page reads the changed set once: each statement handles a few rows per message or
    // record, not a rescan of the set per row (the IN (… UNION …) of the first message sync
    // was a nested loop of 2,000 × 1,000 rows here once the room was under-estimated).
    const heavy: string[] = [];
    for (const { text, values } of seen) {
      const { rows } = await admin.query(`explain (analyze, format json) ${text}`, values);
      const handled = rowsHandled(rows[0]["QUERY PLAN"][0].Plan);
      if (handled > 10 * 4000) heavy.push(`${handled} rows: ${text}`);
    }
    assert.deepEqual(heavy, [], "statements that handle more than 10 rows per record of the set");
  });
});
