// `history`: page 1 of room history (GET /messages/roomId/:roomId) in a 100-message room and in a
// 1,000,000-message room, seeded through the app's own data layer while the server is stopped.
// Starting the server again on that database also gives `startup` (spawn → ready line).
import { createRoom, signUps } from "../lib/api.js";
import { load } from "../lib/load.js";
import { cpuFields, cpuMeter, freshDatabase, startSpika } from "../lib/procs.js";
import { seedMessages } from "../lib/seed.js";
import type { Row } from "../lib/report.js";
import type { Ctx } from "./context.js";

const CONNECTIONS = 10;
export const BIG_ROOM = Number(process.env.BENCH_HISTORY_MESSAGES ?? 1_000_000);

export async function history(ctx: Ctx) {
  const db = await freshDatabase();
  let server = await startSpika(db);
  try {
    const [reader, small, big] = await signUps(server.url, 3);
    const smallRoom = await createRoom(server.url, reader, [small]);
    const bigRoom = await createRoom(server.url, reader, [big]);
    await server.stop();

    ctx.log(`history: seeding 100 + ${BIG_ROOM.toLocaleString("en")} messages through src/db`);
    const t0 = performance.now();
    await seedMessages(db.url, [
      { roomId: smallRoom, fromUserId: small.userId, fromDeviceId: small.deviceId, totalUserCount: 2, count: 100 },
      { roomId: bigRoom, fromUserId: big.userId, fromDeviceId: big.deviceId, totalUserCount: 2, count: BIG_ROOM },
    ]);
    ctx.log(`history: seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s; starting the server on it`);
    // Server ready on an existing database: spawn → ready line, median of three starts (the
    // first start right after writing ~450 MB also measures the disk catching up: reported apart).
    const starts: number[] = [];
    for (let i = 0; i < 4; i++) {
      server = await startSpika(db, i === 3 ? "history" : undefined);
      starts.push(server.readyMs / 1000);
      if (i < 3) await server.stop();
    }
    const [first, ...later] = starts;
    later.sort((a, b) => a - b);
    const startup: Row = {
      seconds: later[1],
      note: `spawn → ready line on the ${BIG_ROOM.toLocaleString("en")}-message database, median of 3 (${later.map((t) => t.toFixed(2)).join(", ")} s; first start right after seeding ${first.toFixed(2)} s)`,
    };

    const page1 = async (key: string, roomId: number): Promise<Row> => {
      const path = `/api/messenger/messages/roomId/${roomId}`;
      // One read first: it writes the reader's delivered records of page 1 (§9.3), as a client's first open does.
      const warm = await fetch(server.url + path, { headers: { accesstoken: reader.token } });
      if (warm.status !== 200) throw new Error(`history ${roomId}: ${warm.status} ${await warm.text()}`);
      // Throughput with CONNECTIONS concurrent readers; latency with one reader (service time,
      // not queueing behind a saturated server: the 1.2× target compares the rooms, not the queue).
      const [r, lat, c] = await server.measure(key, async () => {
        const cpu = cpuMeter(server.pid, db.url);
        const headersFor = () => ({ accesstoken: reader.token });
        const busy = await load({ url: server.url, path, connections: CONNECTIONS, seconds: ctx.seconds, headersFor });
        const used = cpu();
        const one = await load({ url: server.url, path, connections: 1, seconds: ctx.seconds / 2, headersFor });
        return [busy, one, used] as const;
      });
      return {
        throughput_per_s: r.rps,
        p50_ms: lat.p50,
        p99_ms: lat.p99,
        loaded_p50_ms: r.p50,
        loaded_p99_ms: r.p99,
        rss_mb: server.rssMb(),
        errors: r.non2xx + r.errors + r.timeouts + lat.non2xx + lat.errors + lat.timeouts,
        ...cpuFields(c, r.total),
      };
    };
    ctx.log(`history: page 1, ${CONNECTIONS} connections for ${ctx.seconds} s, then 1 connection for ${ctx.seconds / 2} s, per room`);
    const h100 = await page1("history-100", smallRoom);
    const h1m = await page1("history-1m", bigRoom);
    return { "history-100": h100, "history-1m": h1m, startup };
  } finally {
    await server.stop();
    await db.drop();
  }
}
