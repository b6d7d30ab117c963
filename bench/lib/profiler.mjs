// Preload for server children when BENCH_PROFILE=1: SIGUSR2 starts the V8 CPU profiler of the
// main thread (node:inspector, in-process), the next SIGUSR2 stops it and writes the profile to
// $BENCH_PROFILE_DIR/<label>.cpuprofile, where label is the first line of $BENCH_PROFILE_DIR/label.
// The benchmark brackets each measured run with the two signals, so the profile holds the run
// and not the setup (sign-ups, room creation). Progress lines go to stderr for the benchmark.
import { Session } from "node:inspector";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.BENCH_PROFILE_DIR;
const session = new Session();
session.connect();
let running = false;

const post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));

process.on("SIGUSR2", async () => {
  try {
    if (!running) {
      running = true;
      await post("Profiler.enable");
      await post("Profiler.setSamplingInterval", { interval: 500 });
      await post("Profiler.start");
      process.stderr.write("[profiler] started\n");
    } else {
      running = false;
      const { profile } = await post("Profiler.stop");
      const label = readFileSync(join(dir, "label"), "utf8").trim();
      const file = join(dir, `${label}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      process.stderr.write(`[profiler] wrote ${file}\n`);
    }
  } catch (err) {
    process.stderr.write(`[profiler] failed: ${err}\n`);
  }
});
