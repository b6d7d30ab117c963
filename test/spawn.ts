// A server as its own process (`spika serve`), for tests that need several instances or a crash.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process logged so far. */
  output(): string;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `spika serve` with test defaults plus `env`, and resolves once its ready line names the
 * URL. `main`: the node arguments that run the CLI (default: the sources through tsx).
 */
export async function spawnServer(env: Record<string, string>, main = ["--import", "tsx", "src/main.ts"], readyWithinMs = 90_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...main, "serve"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: "0", HOST: "127.0.0.1", IS_TEST: "1", RATE_LIMIT: "off", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running behind the failed test.
      child.kill("SIGKILL");
      reject(new Error(`server not ready within ${readyWithinMs / 1000} s:\n${log}`));
    }, readyWithinMs);
    const check = () => {
      const m = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  return {
    url,
    child,
    output: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
