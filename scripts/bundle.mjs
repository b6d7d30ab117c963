// `npm run build` ends here: the server as one ES module bundle (dist/bundle/spika.js), because
// resolving, reading and compiling the ~700 modules of its dependencies one by one was most of
// its start-up time (1.35 s → 0.78 s to ready on a 2-core VM). Type checking stays with tsc.
//
// Left outside the bundle: native addons; packages that read files next to their own sources
// (@fastify/swagger, @fastify/swagger-ui); and those the server loads only when configured
// (ioredis, google-auth-library), which stay lazy as chunks of their own.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const EXTERNAL = ["better-sqlite3", "sharp", "pg-native", "@fastify/swagger", "@fastify/swagger-ui", "ioredis", "google-auth-library"];

export async function bundle(outdir) {
  await build({
    entryPoints: { spika: fileURLToPath(new URL("../src/main.ts", import.meta.url)) },
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

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle(process.argv[2] ?? fileURLToPath(new URL("../dist/bundle", import.meta.url)));
