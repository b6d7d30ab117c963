// `fanout-N`: a group of N members, every member's device streaming SSE; one sender posts at
// 20 msg/s for the run, then as fast as acknowledged: NEW_MESSAGE deliveries per second and the
// latency from send to the last recipient.
import { createRoom, signUps } from "../lib/api.js";
import { fanoutRow, measureFanout, type FanoutResult } from "../lib/fanout.js";
import { cpuMeter, freshDatabase, startSpika } from "../lib/procs.js";
import type { Rows } from "../lib/report.js";
import { SsePool } from "../lib/sse-pool.js";
import { sleep, type Ctx } from "./context.js";

export function fanout(members: number) {
  return async (ctx: Ctx): Promise<Rows> => {
    const db = await freshDatabase();
    const server = await startSpika(db, `fanout-${members}`);
    const pool = new SsePool();
    try {
      ctx.log(`fanout-${members}: signing up ${members} users`);
      const users = await signUps(server.url, members, 32);
      const [sender, ...others] = users;
      const roomId = await createRoom(server.url, sender, others, `fan-out ${members}`);
      await pool.open(
        server.url,
        users.map((u) => u.token),
      );
      await sleep(500);
      const rows: Rows = {};
      for (const rate of [20, undefined]) {
        const key = `fanout-${members}@${rate ?? "max"}`;
        ctx.log(`${key}: ${rate ? `${rate} msg/s` : "as fast as acknowledged"}, ${ctx.seconds} s, ${members - 1} recipients`);
        const [r, c] = await server.measure(key, async () => {
          const cpu = cpuMeter(server.pid, db.url);
          const result: FanoutResult = await measureFanout({
            pool,
            recipients: members - 1, // every member's device but the sending one (§9.2)
            url: server.url,
            path: "/api/messenger/messages",
            token: sender.token,
            body: (text) => ({ roomId, type: "text", body: { text } }),
            seconds: ctx.seconds,
            rate,
          });
          return [result, cpu()] as const;
        });
        rows[key] = fanoutRow(r, pool, pool.size, server.rssMb(), c);
        await sleep(1000);
      }
      return rows;
    } finally {
      pool.close();
      await server.stop();
      await db.drop();
    }
  };
}
