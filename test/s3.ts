// A real S3 protocol server for tests: s3rver in a child process on loopback (so a test can kill
// it and start it again), and a fresh bucket per test server, spoken to with the real AWS SDK.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

const SCRIPT = new URL("./s3rver-process.mjs", import.meta.url).pathname;
/** s3rver's fixed credentials. */
const ACCESS_KEY = "S3RVER";

export class S3Process {
  private child: ChildProcess | null = null;
  port = 0;
  readonly dir = mkdtempSync(join(tmpdir(), "spika-s3-"));

  static async start(): Promise<S3Process> {
    const s3 = new S3Process();
    await s3.run();
    return s3;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process (again, on the same port and folder after stop()). */
  async run(): Promise<void> {
    const child = spawn(process.execPath, [SCRIPT, this.dir, String(this.port)], { stdio: ["ignore", "pipe", "inherit"] });
    this.child = child;
    this.port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", (line) => resolve(JSON.parse(line).port));
      child.once("exit", (code) => reject(new Error(`s3rver exited with ${code}`)));
    });
    // The test process may end while the server still runs: it must not hold the process open.
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
  }

  /** Kills the process (an outage); objects stay in its folder. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = null;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.ref(); // wait for it to be gone
    child.kill("SIGKILL");
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A new empty bucket; returns the server settings that use it. */
  async bucketEnv(): Promise<Record<string, string>> {
    const bucket = `spika-${randomBytes(6).toString("hex")}`;
    const client = new S3Client({ region: "us-east-1", endpoint: this.endpoint, forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: ACCESS_KEY } });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
    return {
      STORAGE: "s3",
      S3_ENDPOINT: this.endpoint,
      S3_BUCKET: bucket,
      S3_REGION: "us-east-1",
      S3_ACCESS_KEY_ID: ACCESS_KEY,
      S3_SECRET_ACCESS_KEY: ACCESS_KEY,
      S3_FORCE_PATH_STYLE: "1",
    };
  }
}

let shared: Promise<S3Process> | null = null;
/** One S3 server per test process, started on first use and killed when the process exits. */
export function sharedS3(): Promise<S3Process> {
  if (!shared) {
    shared = S3Process.start();
    shared.then((s3) =>
      process.once("exit", () => {
        void s3.stop();
        rmSync(s3.dir, { recursive: true, force: true });
      }),
    );
  }
  return shared;
}
