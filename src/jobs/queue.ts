// The durable job queue (a transactional outbox in the `jobs` table). A job is written in the
// same transaction as the change that needs it, so a crash after commit loses nothing; workers
// (src/jobs/worker.ts) claim due jobs, delete them on success, and on failure put them back
// with an exponential backoff until `max_attempts`, when they stay as `failed`.
import { EventEmitter } from "node:events";
import type { AfterCommit } from "../context.js";
import type { Db, Dialect, Tx } from "../db/index.js";
import type { JobRow } from "../db/schema.js";

/** Attempts before a job is left as `failed`, by kind (others: DEFAULT_MAX_ATTEMPTS). */
export const MAX_ATTEMPTS: Record<string, number> = {
  // A verification code lives 10 minutes: a few quick tries, then the user asks again.
  sms: 5,
  // A push is only useful while the message is fresh.
  push: 6,
  // Webhooks: about 17 minutes of retries at the default 2 s base, then ~1 h apart.
  webhook: 12,
};
const DEFAULT_MAX_ATTEMPTS = 8;
/** Longest wait between two attempts, whatever the base. */
const RETRY_CAP_MS = 60 * 60 * 1000;

export interface EnqueueOptions {
  /** The transaction's after-commit outlet: wakes this process's workers once it commits. */
  after?: AfterCommit;
  /** Earliest run time (epoch ms); default now. */
  runAt?: number;
  maxAttempts?: number;
}

export interface NewJob {
  kind: string;
  payload: unknown;
}

/** Tells the workers of this process that jobs were committed (no-op without workers). */
export const enqueued = new EventEmitter();
enqueued.setMaxListeners(0);

/** Writes jobs inside the caller's transaction (`tx`): they exist exactly when it commits. */
export async function enqueueAll(tx: Tx, jobs: NewJob[], opts: EnqueueOptions = {}): Promise<void> {
  if (jobs.length === 0) return;
  const now = Date.now();
  await tx
    .insertInto("jobs")
    .values(
      jobs.map((j) => ({
        kind: j.kind,
        payload: JSON.stringify(j.payload),
        status: "pending" as const,
        attempts: 0,
        maxAttempts: opts.maxAttempts ?? MAX_ATTEMPTS[j.kind] ?? DEFAULT_MAX_ATTEMPTS,
        runAt: opts.runAt ?? now,
        createdAt: now,
        modifiedAt: now,
      })),
    )
    .execute();
  opts.after?.later(async () => void enqueued.emit("jobs"));
}

export const enqueue = (tx: Tx, kind: string, payload: unknown, opts: EnqueueOptions = {}): Promise<void> => enqueueAll(tx, [{ kind, payload }], opts);

/**
 * Claims up to `limit` due jobs for `workerId`: running jobs whose lease expired (their worker
 * died), then pending jobs whose time has come, oldest first. Each claim is one statement over
 * an index range of `jobs_due_idx` (one `or` of both made SQLite scan the table: 25 % of the SQL
 * time of a send). PostgreSQL skips rows another worker is claiming (FOR UPDATE SKIP LOCKED);
 * SQLite has a single writer, so the UPDATE … RETURNING is atomic as it is.
 */
export async function claimJobs(db: Db, dialect: Dialect, opts: { workerId: string; limit: number; leaseMs: number; now?: number }): Promise<JobRow[]> {
  const now = opts.now ?? Date.now();
  const claim = async (status: "running" | "pending", limit: number): Promise<JobRow[]> => {
    if (limit <= 0) return [];
    let due = db.selectFrom("jobs").select("id").where("status", "=", status);
    due = status === "running" ? due.where("lockedAt", "<", now - opts.leaseMs) : due.where("runAt", "<=", now);
    due = due.orderBy("runAt").orderBy("id").limit(limit);
    if (dialect === "postgres") due = due.forUpdate().skipLocked();
    const rows = await db
      .updateTable("jobs")
      .set((eb) => ({ status: "running" as const, lockedAt: now, lockedBy: opts.workerId, attempts: eb("attempts", "+", 1), modifiedAt: now }))
      .where("id", "in", due)
      .returningAll()
      .execute();
    return rows.sort((a, b) => a.runAt - b.runAt || a.id - b.id);
  };
  const expired = await claim("running", opts.limit);
  return [...expired, ...(await claim("pending", opts.limit - expired.length))];
}

/** Keeps the lease of jobs this worker is still running. */
export async function renewLeases(db: Db, workerId: string, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable("jobs").set({ lockedAt: Date.now() }).where("id", "in", ids).where("lockedBy", "=", workerId).where("status", "=", "running").execute();
}

/** Success: the job is gone. */
export async function completeJob(db: Db, job: JobRow): Promise<void> {
  await db.deleteFrom("jobs").where("id", "=", job.id).where("lockedBy", "=", job.lockedBy!).where("status", "=", "running").execute();
}

/** Exponential backoff with jitter: base·2^(attempt-1), between half and all of it, capped. */
function retryDelay(attempts: number, baseMs: number): number {
  const full = Math.min(RETRY_CAP_MS, baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40));
  return Math.round(full / 2 + Math.random() * (full / 2));
}

/**
 * Failure: back to `pending` after the backoff, or `failed` for good (kept for operators) when
 * the attempts are used up or `permanent`; `payload` replaces the stored one (a narrowed retry,
 * or a redacted failure). Returns the new run time (null when failed).
 */
export async function failJob(db: Db, job: JobRow, error: string, opts: { retryBaseMs: number; permanent?: boolean; payload?: unknown }): Promise<number | null> {
  const now = Date.now();
  const lastError = error.slice(0, 2000);
  const payload = opts.payload !== undefined ? { payload: JSON.stringify(opts.payload) } : {};
  const mine = db.updateTable("jobs").where("id", "=", job.id).where("lockedBy", "=", job.lockedBy!).where("status", "=", "running");
  if (opts.permanent || job.attempts >= job.maxAttempts) {
    await mine.set({ status: "failed", lockedAt: null, lockedBy: null, lastError, modifiedAt: now, ...payload }).execute();
    return null;
  }
  const runAt = now + retryDelay(job.attempts, opts.retryBaseMs);
  await mine.set({ status: "pending", runAt, lockedAt: null, lockedBy: null, lastError, modifiedAt: now, ...payload }).execute();
  return runAt;
}
