// What every scenario gets from bench/run.ts.
import type { Rows } from "../lib/report.js";

export interface Ctx {
  /** Length of each measured run, seconds (BENCH_SECONDS, default 10). */
  seconds: number;
  /** Progress line on stderr. */
  log(message: string): void;
}

export type Scenario = (ctx: Ctx) => Promise<Rows>;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
