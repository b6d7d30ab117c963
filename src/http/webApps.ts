// WEB_APP_DIR: the official Spika web apps, built elsewhere, served by this server: the messenger
// at /messenger/ (WEB_APP_DIR/messenger) and the management app at /management/
// (WEB_APP_DIR/management, when present). Both are single-page apps: a path under the prefix
// that is no file answers index.html, and the app's router takes it from there.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import fastifyStatic from "@fastify/static";

const WEB_APPS = [
  { prefix: "/messenger", folder: "messenger" },
  { prefix: "/management", folder: "management" },
] as const;

export async function registerWebApps(app: FastifyInstance, dir: string): Promise<void> {
  for (const { prefix, folder } of WEB_APPS) {
    const root = join(dir, folder);
    if (!existsSync(root)) continue;
    await app.register(
      async (scope) => {
        // @fastify/send resolves paths inside `root` only: `..` cannot leave it.
        await scope.register(fastifyStatic, { root, prefix: "/", schemaHide: true });
        // The app's relative asset paths resolve only under the trailing slash (the router
        // ignores trailing slashes, so /messenger would otherwise answer the index as is).
        scope.addHook("onRequest", async (request, reply) => {
          const [path, query] = request.url.split("?", 2);
          if (path === prefix) return reply.redirect(`${prefix}/${query === undefined ? "" : `?${query}`}`, 301);
        });
        scope.setNotFoundHandler((request, reply) => {
          if (request.method !== "GET" && request.method !== "HEAD")
            return reply.code(404).send({ status: "error", message: `Route ${request.method} ${request.url.split("?")[0]} not found` });
          return reply.header("cache-control", "no-cache").sendFile("index.html", root);
        });
      },
      { prefix },
    );
  }
}
