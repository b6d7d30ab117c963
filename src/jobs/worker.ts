// The job worker: claims due jobs (src/jobs/queue.ts) and runs them with the handler of their
// kind, at most `concurrency` at a time. It polls, and wakes at once when this process commits
// new jobs or when one of its retries comes due. Runs inside the server (JOB_WORKER=on) and/or
// as `spika worker`; any number of workers may share a database.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { AppContext } from "../context.js";
import type { JobRow } from "../db/schema.js";
import { claimJobs, completeJob, enqueued, failJob, renewLeases } from "./queue.js";

export interface JobHandler {
  /** Does the work; throwing retries the job later (see the error classes below). */
  run(payload: unknown, job: JobRow): Promise<void>;
  /** What to keep of the payload once the job has failed for good (e.g. drop secrets). */
  redact?(payload: unknown): unknown;
}

/** The job cannot succeed (e.g. a refused webhook target): failed at once, no retries. */
export class PermanentJobError extends Error {}

/** Retry later with a narrowed payload (e.g. only the devices a push still has to reach). */
export class RetryJobError extends Error {
  constructor(
    message: string,
    readonly payload: unknown,
  ) {
    super(message);
  }
}

export interface WorkerOptions {
  concurrency?: number;
  pollMs?: number;
  /** Lease of a claimed job; renewed while it runs, reclaimable by others once expired. */
  leaseMs?: number;
  /** First retry delay; doubles per attempt (capped in queue.ts). */
  retryBaseMs?: number;
  /** Upkeep run at every poll, one run at a time (the search index: src/jobs/index.ts). */
  upkeep?: () => Promise<void>;
}

export class Worker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly retryBaseMs: number;
  private readonly running = new Map<number, Promise<void>>();
  private readonly wakeTimers = new Set<NodeJS.Timeout>();
  private pollTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private upkeeping: Promise<void> | null = null;
  private again = false;
  /** The last claim filled every free slot: more jobs may be due as soon as one finishes. */
  private saturated = false;
  private active = false;
  private readonly onEnqueued = () => this.wake();

  constructor(
    private readonly ctx: AppContext,
    private readonly handlers: Record<string, JobHandler>,
    private readonly opts: WorkerOptions = {},
  ) {
    this.concurrency = opts.concurrency ?? 8;
    this.pollMs = opts.pollMs ?? 500;
    this.leaseMs = opts.leaseMs ?? ctx.config.jobLeaseMs;
    this.retryBaseMs = opts.retryBaseMs ?? ctx.config.jobRetryBaseMs;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    enqueued.on("jobs", this.onEnqueued);
    this.pollTimer = setInterval(() => {
      this.wake();
      this.upkeep();
    }, this.pollMs);
    this.leaseTimer = setInterval(() => this.renew(), Math.max(250, Math.floor(this.leaseMs / 3)));
    this.leaseTimer.unref();
    this.wake();
  }

  /** Looks for due jobs now (coalesced with a look already under way). */
  wake(): void {
    if (!this.active) return;
    void this.pump();
  }

  /** Stops claiming and waits for the jobs in flight (each is bounded by its own timeouts). */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    enqueued.off("jobs", this.onEnqueued);
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const t of this.wakeTimers) clearTimeout(t);
    this.wakeTimers.clear();
    await Promise.all([this.pumping, this.upkeeping]);
    await Promise.allSettled([...this.running.values()]);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
  }

  private upkeep(): void {
    const task = this.opts.upkeep;
    if (!task || this.upkeeping) return;
    this.upkeeping = task()
      .catch((err) => this.ctx.log.error({ err }, "upkeep failed"))
      .finally(() => {
        this.upkeeping = null;
      });
  }

  private pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    // (.finally runs after the assignment, even when the loop never has to wait.)
    const pumping = this.claimWhileFree().finally(() => {
      if (this.pumping === pumping) this.pumping = null;
    });
    this.pumping = pumping;
    return pumping;
  }

  private async claimWhileFree(): Promise<void> {
    try {
      do {
        this.again = false;
        const free = this.concurrency - this.running.size;
        if (!this.active || free <= 0) break;
        const jobs = await claimJobs(this.ctx.db, this.ctx.dialect, { workerId: this.id, limit: free, leaseMs: this.leaseMs });
        this.saturated = jobs.length === free;
        for (const job of jobs) this.launch(job);
        if (this.saturated) this.again = true;
      } while (this.again);
    } catch (err) {
      if (this.active) this.ctx.log.error({ err }, "claiming jobs failed");
    }
  }

  private launch(job: JobRow): void {
    const done = this.execute(job).finally(() => {
      this.running.delete(job.id);
      if (this.saturated) this.wake();
    });
    this.running.set(job.id, done);
  }

  private async execute(job: JobRow): Promise<void> {
    const log = this.ctx.log.child({ jobId: job.id, kind: job.kind, attempt: job.attempts });
    const handler = this.handlers[job.kind];
    let payload: unknown;
    try {
      try {
        payload = JSON.parse(job.payload);
      } catch {
        throw new PermanentJobError("the payload is not JSON");
      }
      // Perhaps a worker of another version knows it: retried like any failure.
      if (!handler) throw new Error(`no handler for job kind "${job.kind}"`);
      // Reclaimed after its worker died too often (e.g. a job that crashes the process).
      if (job.attempts > job.maxAttempts) throw new PermanentJobError("lease expired after the last attempt");
      await handler.run(payload, job);
    } catch (err) {
      await this.failed(job, handler, payload, err, log);
      return;
    }
    try {
      await completeJob(this.ctx.db, job);
    } catch (err) {
      log.error({ err }, "job done, but could not be removed (it will run again)");
    }
  }

  private async failed(job: JobRow, handler: JobHandler | undefined, payload: unknown, err: unknown, log: AppContext["log"]): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const permanent = err instanceof PermanentJobError;
    const last = permanent || job.attempts >= job.maxAttempts;
    const narrowed = err instanceof RetryJobError ? err.payload : undefined;
    const kept = last && handler?.redact && payload !== undefined ? handler.redact(narrowed ?? payload) : narrowed;
    try {
      const runAt = await failJob(this.ctx.db, job, message, { retryBaseMs: this.retryBaseMs, permanent, payload: kept });
      if (runAt === null) {
        log.warn({ err: message }, permanent ? "job failed (not retried)" : `job failed after ${job.attempts} attempts`);
      } else {
        log.info({ err: message, retryAt: new Date(runAt).toISOString() }, "job failed, will retry");
        this.wakeAt(runAt);
      }
    } catch (dbErr) {
      log.error({ err: dbErr, jobError: message }, "job failed and could not be rescheduled (it will run again after its lease)");
    }
  }

  /** A retry due before the next poll is picked up on time (later ones are found by polling). */
  private wakeAt(runAt: number): void {
    if (!this.active || runAt - Date.now() >= this.pollMs) return;
    const timer = setTimeout(
      () => {
        this.wakeTimers.delete(timer);
        this.wake();
      },
      Math.max(0, runAt - Date.now()),
    );
    timer.unref();
    this.wakeTimers.add(timer);
  }

  private renew(): void {
    if (this.running.size === 0) return;
    renewLeases(this.ctx.db, this.id, [...this.running.keys()]).catch((err) => this.ctx.log.error({ err }, "renewing job leases failed"));
  }
}
