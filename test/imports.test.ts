// The import directions of DESIGN.md, checked on the sources (no server): routes → actions/queries → db.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");

/** `path` relative to the repository, with forward slashes (`src/http/auth.ts`). */
const repoPath = (path: string) => relative(root, path).split(sep).join("/");

/** Every `.ts` file under src/. */
const sources = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts")).map((f) => repoPath(join(src, f)));

// `import … from "x"`, `export … from "x"`, `import "x"` and `import("x")`.
const SPECIFIER = /\b(?:from|import)\s*\(?\s*"([^"]+)"/g;

/** The src/ files that `file` imports (relative specifiers only; packages are not layers). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(SPECIFIER)]
    .map((m) => m[1])
    .filter((spec) => spec.startsWith("."))
    .map((spec) => repoPath(resolve(root, dirname(file), spec)).replace(/\.js$/, ".ts"));
}

// Below the modules: what modules build on. jobs/handlers/ are not among them: like routes for a
// request, they are the entry point that runs a module's work for a queued job.
const BELOW = /^src\/(http|db|realtime|storage|providers)\/|^src\/jobs\/(?!handlers\/)/;
const moduleOf = (file: string): string | undefined => /^src\/modules\/([^/]+)\//.exec(file)?.[1];
const layerOf = (file: string): string | undefined => /^src\/modules\/[^/]+\/(routes|actions|queries|views)\.ts$/.exec(file)?.[1];

/** Each import that breaks a rule, as `importer → imported: rule`. */
function violations(): string[] {
  const found: string[] = [];
  for (const file of sources) {
    for (const target of importsOf(file)) {
      const into = moduleOf(target);
      if (into === undefined) continue;
      const from = moduleOf(file);
      if (BELOW.test(file)) found.push(`${file} → ${target}: nothing below modules/ imports a module`);
      if (from !== undefined && from !== into && layerOf(target) === "routes") found.push(`${file} → ${target}: no module imports another module's routes`);
      const fromLayer = layerOf(file);
      // The room rule is applied by actions and queries (docs/architecture.md), never spelled again in a route.
      if (fromLayer === "routes" && target === "src/modules/rooms/access.ts") found.push(`${file} → ${target}: routes leave room access to actions and queries`);
      if ((fromLayer === "queries" || fromLayer === "views") && (layerOf(target) === "routes" || layerOf(target) === "actions")) {
        found.push(`${file} → ${target}: queries and views import no routes or actions`);
      }
    }
  }
  return found;
}

describe("import directions (DESIGN.md)", () => {
  it("reads the sources it checks", () => {
    assert.ok(sources.includes("src/http/auth.ts"));
    assert.ok(importsOf("src/app.ts").includes("src/modules/auth/routes.ts"), "app.ts's imports are resolved to files");
  });

  it("nothing below modules/ imports a module, no module imports another's routes, queries and views import no routes or actions, routes do not check room access", () => {
    assert.deepEqual(violations(), []);
  });
});
