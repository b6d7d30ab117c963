// `npm run build` ends here: the server as one ES module bundle (dist/bundle/spika.js), because
// resolving, reading and compiling the ~700 modules of its dependencies one by one was most of
// its start-up time (1.35 s → 0.78 s to ready on a 2-core VM). Type checking stays with tsc.
//
// Left outside the bundle: native addons; packages that read files next to their own sources
// (@fastify/swagger, @fastify/swagger-ui); and those the server loads only when configured
// (ioredis, google-auth-library), which stay lazy as chunks of their own.
//
// `node scripts/bundle.mjs --if-stale` (what `npm start` runs first) rebuilds only when a source
// is newer than the bundle, so a built checkout starts at once. Builds go to a scratch folder
// that replaces dist/bundle whole, under a lock: two servers started together from one checkout
// never run, or write, a half-built bundle.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const EXTERNAL = ["better-sqlite3", "sharp", "pg-native", "@fastify/swagger", "@fastify/swagger-ui", "@fastify/static", "ioredis", "google-auth-library"];

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TARGET = join(ROOT, "dist", "bundle");
const LOCK = join(ROOT, "dist", ".bundle-lock");
/** What the bundle is made of: a change to any of these makes it stale. */
const SOURCES = ["src", "scripts/bundle.mjs", "package.json", "package-lock.json"];
/** A lock older than this was left by a build that died. */
const STALE_LOCK_MS = 5 * 60_000;

export async function bundle(outdir) {
  // Loaded here, not at the top: the staleness check of every `npm start` does without it.
  const { build } = await import("esbuild");
  await build({
    entryPoints: { spika: join(ROOT, "src", "main.ts") },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: EXTERNAL,
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    sourcemap: true,
    logLevel: "warning",
  });
}

function newestMtime(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function isStale() {
  let built;
  try {
    built = statSync(join(TARGET, "spika.js")).mtimeMs;
  } catch {
    return true;
  }
  return SOURCES.some((source) => newestMtime(join(ROOT, source)) > built);
}

async function withLock(fn) {
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      } catch {}
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Builds into a scratch folder, then swaps it in for dist/bundle. */
async function buildInPlace() {
  const scratch = `${TARGET}.new-${process.pid}`;
  const old = `${TARGET}.old-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  await bundle(scratch);
  try {
    renameSync(TARGET, old);
  } catch (err) {
    if (err.code !== "ENOENT") throw err;
  }
  renameSync(scratch, TARGET);
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === "--if-stale") {
    // Checked again under the lock: another start may have just built it.
    if (isStale()) {
      await withLock(async () => {
        if (!isStale()) return;
        process.stderr.write("spika: sources changed since the last build; bundling…\n");
        await buildInPlace();
      });
    }
  } else if (args[0]) {
    await bundle(args[0]);
  } else {
    await withLock(buildInPlace);
  }
}
