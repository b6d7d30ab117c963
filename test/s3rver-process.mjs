// An S3 protocol server (s3rver) as its own process, for tests: `node test/s3rver-process.mjs DIR [PORT]`.
// Prints one JSON line {"port": N} once it listens; objects live in DIR, so a restart on the same
// DIR and PORT finds them again (the tests stop and restart it to play an outage).
import S3rver from "s3rver";

const [directory, port = "0"] = process.argv.slice(2);
const server = new S3rver({ address: "127.0.0.1", port: Number(port), directory, silent: true });
const { port: listening } = await server.run();
process.stdout.write(JSON.stringify({ port: listening }) + "\n");
