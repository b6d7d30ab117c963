// Memory benchmark for file downloads (not a test): starts a server as a child process, uploads a
// ~200 MB file in chunks, then downloads it several times (one after another, then in parallel)
// while sampling the server's RSS, and prints how far RSS rose above its level before each phase.
// A streaming server stays flat; one that buffers whole files grows by ~200 MB per download.
//
//   node --import tsx bench/download-rss.ts [sizeMB=200] [parallel=4]
//
// BENCH_STORAGE=s3 runs the server on STORAGE=s3 against a local S3 server (s3rver, in its own
// process as in the tests): chunks, the assembled file and every download go through the bucket.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { S3Process } from "../test/s3.js";

const SIZE_MB = Number(process.argv[2] ?? 200);
const PARALLEL = Number(process.argv[3] ?? 4);
const CHUNK = 4 * 1024 * 1024;
const MB = 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), "spika-bench-"));
const s3 = process.env.BENCH_STORAGE === "s3" ? await S3Process.start() : null;
const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "serve"], {
  env: {
    ...process.env,
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: `sqlite:${join(dir, "spika.db")}`,
    UPLOAD_DIR: join(dir, "uploads"),
    IS_TEST: "1",
    RATE_LIMIT: "off",
    MAX_FILE_SIZE: String((SIZE_MB + 10) * MB),
    LOG_LEVEL: "info",
    ...(s3 ? await s3.bucketEnv() : {}),
  },
  stdio: ["ignore", "pipe", "inherit"],
});

function cleanup() {
  child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
  void s3?.close();
}

const url: string = await new Promise((resolve, reject) => {
  const lines = createInterface({ input: child.stdout! });
  lines.on("line", (line) => {
    try {
      const entry = JSON.parse(line);
      if (typeof entry.url === "string") resolve(entry.url);
      if (entry.level >= 50) process.stderr.write(`server: ${line}\n`);
    } catch {
      // not a log line
    }
  });
  child.on("exit", (code) => reject(new Error(`server exited with ${code}`)));
});

function rssBytes(): number {
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

/** Runs `fn` while sampling the server's RSS every 10 ms; returns the RSS before and the peak. */
async function sampled<T>(fn: () => Promise<T>): Promise<{ result: T; before: number; peak: number; ms: number }> {
  const before = rssBytes();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes());
  }, 10);
  const start = performance.now();
  try {
    const result = await fn();
    peak = Math.max(peak, rssBytes());
    return { result, before, peak, ms: performance.now() - start };
  } finally {
    clearInterval(timer);
  }
}

async function json(method: string, path: string, body: unknown, token?: string): Promise<any> {
  const res = await fetch(url + path, {
    method,
    headers: { "content-type": "application/json", ...(token ? { accesstoken: token } : {}) },
    body: JSON.stringify(body),
  });
  const parsed = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

/** Downloads the whole file, hashing it as it arrives; returns its SHA-256. */
async function download(path: string): Promise<string> {
  const res = await fetch(url + path);
  if (res.status !== 200) throw new Error(`download: ${res.status}`);
  const hash = createHash("sha256");
  for await (const part of res.body!) hash.update(part);
  return hash.digest("hex");
}

const fmt = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

try {
  const deviceId = `bench-${randomBytes(4).toString("hex")}`;
  await json("POST", "/api/messenger/auth", { telephoneNumber: "+38599" + String(Date.now()).slice(-7), deviceId });
  const token: string = (await json("POST", "/api/messenger/auth/verify", { code: "000000", deviceId })).data.device.token;

  const total = Math.ceil((SIZE_MB * MB) / CHUNK);
  const clientId = `bench-${Date.now()}`;
  const fileHash = createHash("sha256");
  const upload = await sampled(async () => {
    for (let i = 0; i < total; i++) {
      const bytes = randomBytes(Math.min(CHUNK, SIZE_MB * MB - i * CHUNK));
      fileHash.update(bytes);
      await json("POST", "/api/upload/files", { chunk: bytes.toString("base64"), offset: i, clientId }, token);
    }
  });
  const expected = fileHash.digest("hex");
  const verify = await sampled(() =>
    json(
      "POST",
      "/api/upload/files/verify",
      { total, size: SIZE_MB * MB, mimeType: "application/octet-stream", fileName: "bench.bin", clientId, type: "bench", fileHash: expected },
      token,
    ),
  );
  const file = verify.result.data.file;
  const path = `/api/upload/files/${file.id}`;

  await new Promise((r) => setTimeout(r, 500));
  const sequential = await sampled(async () => {
    for (let i = 0; i < 3; i++) if ((await download(path)) !== expected) throw new Error("hash mismatch");
  });
  const parallel = await sampled(async () => {
    const hashes = await Promise.all(Array.from({ length: PARALLEL }, () => download(path)));
    if (hashes.some((h) => h !== expected)) throw new Error("hash mismatch");
  });

  const line = (name: string, s: { before: number; peak: number; ms: number }, bytes?: number) =>
    `${name.padEnd(34)} RSS before ${fmt(s.before).padStart(9)}  peak ${fmt(s.peak).padStart(9)}  growth ${fmt(s.peak - s.before).padStart(9)}` +
    (bytes ? `  ${(bytes / MB / (s.ms / 1000)).toFixed(0)} MB/s` : "");
  console.log(`file: ${fmt(file.size)} in ${total} chunks of ${fmt(CHUNK)}, store: ${s3 ? "s3 (s3rver)" : "local"}`);
  console.log(line("upload (base64 JSON chunks)", upload, file.size));
  console.log(line("verify (assemble + SHA-256)", verify, file.size));
  console.log(line("3 downloads, one after another", sequential, 3 * file.size));
  console.log(line(`${PARALLEL} downloads in parallel`, parallel, PARALLEL * file.size));
} finally {
  cleanup();
}
