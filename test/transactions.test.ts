// The database layer under concurrency: grouped transactions (src/db/groupCommit.ts) keep their
// own outcome, and on SQLite reads do not wait for an open transaction (src/db/sqliteDriver.ts).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { migrate, openDatabase, type Database, type Tx } from "../src/db/index.js";
import { engine, testDatabase, type TestDatabase } from "./helpers.js";

describe("transactions", () => {
  let store: TestDatabase;
  let database: Database;
  before(async () => {
    store = await testDatabase();
    database = openDatabase(store.url);
    await migrate(database);
  });
  after(async () => {
    await database.close();
    await store.drop();
  });

  const addUser = (tx: Tx | Database["db"], name: string) =>
    tx
      .insertInto("users")
      .values({ displayName: name, telephoneNumber: `+1555${name}`, verified: 1, createdAt: 1, modifiedAt: 1 })
      .returning("id")
      .executeTakeFirstOrThrow();
  const names = async (prefix: string) =>
    (await database.db.selectFrom("users").select("displayName").where("displayName", "like", `${prefix}%`).orderBy("displayName").execute()).map((u) => u.displayName);

  it("transactions started together each commit or roll back on their own", async () => {
    const outcomes = await Promise.allSettled(
      ["g1", "g2", "g3", "g4"].map((name) =>
        database.transaction(async (tx) => {
          const { id } = await addUser(tx, `${name}a`);
          await addUser(tx, `${name}b`);
          if (name === "g2") throw new Error("g2 fails after writing");
          if (name === "g3") await addUser(tx, "g1a"); // unique telephone number taken: the statement fails
          return id;
        }),
      ),
    );
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "rejected", "rejected", "fulfilled"],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /g2 fails/);
    assert.deepEqual(await names("g"), ["g1a", "g1b", "g4a", "g4b"]);
    const ids = outcomes.filter((o) => o.status === "fulfilled").map((o) => (o as PromiseFulfilledResult<number>).value);
    const stored = await database.db.selectFrom("users").select("id").where("displayName", "in", ["g1a", "g4a"]).orderBy("displayName").execute();
    assert.deepEqual(
      ids,
      stored.map((u) => u.id),
      "each caller gets its own result",
    );
  });

  it("a transaction that fails alone leaves nothing behind, and the next one runs", async () => {
    await assert.rejects(
      database.transaction(async (tx) => {
        await addUser(tx, "solo1");
        throw new Error("no");
      }),
      /no/,
    );
    await database.transaction((tx) => addUser(tx, "solo2"));
    assert.deepEqual(await names("solo"), ["solo2"]);
  });

  it("the WAL reaches the database file without waiting for a commit to checkpoint it", { skip: engine !== "sqlite" && "SQLite only" }, async () => {
    const file = store.url.slice("sqlite:".length);
    const before = statSync(file).size;
    // ~2 MB: far below the writer's own checkpoint threshold, so only the background thread moves it.
    await database.transaction(async (tx) => {
      for (let i = 0; i < 20; i++)
        await addUser(tx, `wal${i}`).then(({ id }) =>
          tx
            .updateTable("users")
            .set({ longDescription: "x".repeat(100_000) })
            .where("id", "=", id)
            .execute(),
        );
    });
    for (let waited = 0; statSync(file).size <= before + 1_000_000; waited += 50) {
      assert.ok(waited < 10_000, "the database file did not grow within 10 s");
      await sleep(50);
    }
  });

  it("while a transaction is open, reads answer from the last commit and writes wait for it", { skip: engine !== "sqlite" && "SQLite only" }, async () => {
    const order: string[] = [];
    let inside!: () => void;
    const opened = new Promise<void>((resolve) => (inside = resolve));
    const tx = database.transaction(async (t) => {
      await addUser(t, "open1");
      inside();
      await sleep(100);
      order.push("commit");
    });
    await opened;
    const seen = await names("open");
    order.push("read");
    const write = addUser(database.db, "open2").then(() => order.push("write"));
    await Promise.all([tx, write]);
    assert.deepEqual(seen, [], "the open transaction's row is not visible yet");
    assert.deepEqual(order, ["read", "commit", "write"]);
    assert.deepEqual(await names("open"), ["open1", "open2"]);
  });
});
