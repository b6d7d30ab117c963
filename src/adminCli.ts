// `spika admin …`: the management operations for operators without the web app, on the same
// actions and queries as /api/management (each change is audited as `cli:<os user>`).
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import type { AppContext } from "./context.js";
import { hashPassword } from "./crypto.js";
import { HttpError } from "./http/errors.js";
import { pageOf, positiveInt } from "./http/schema.js";
import type { Operator } from "./actor.js";
import { logout } from "./modules/auth/actions.js";
import { createBot } from "./modules/management/actions.js";
import { accountById, counts, devicesOf, listAccounts } from "./modules/management/queries.js";
import { adminDeviceView, adminUserView, botView } from "./modules/management/views.js";
import { deleteMe } from "./modules/users/actions.js";

export const ADMIN_HELP = `Usage: spika admin <command> [--json]

Commands:
  users list [--keyword K] [--bots] [--page N]   live users (or bots) by name, 20 a page
  users show <userId>                            one user with their devices
  users delete <userId>                          delete the account as DELETE /me does
  devices logout <deviceId>                      expire a device's token (its streams close)
  bots create <displayName> [--webhook-url URL]  create a bot; prints its access token once
  stats                                          how many users, bots and groups
  hash-password                                  read a password on stdin, print an ADMIN_PASSWORD_HASH

--json prints the answer as JSON (as the management API's data) for scripts.
Exit codes: 0 done, 1 refused (unknown id, bad value), 2 usage error.
`;

/** A usage mistake: exit code 2 with the help text. */
export class UsageError extends Error {}

interface Output {
  json: boolean;
  print(data: unknown, text: string): void;
}

const idArg = (value: string | undefined, name: string): number => {
  const id = positiveInt(value);
  if (id === null) throw new UsageError(`${name} must be a positive number`);
  return id;
};

const userLine = (u: ReturnType<typeof adminUserView>) =>
  `${u.id}\t${u.displayName ?? ""}\t${u.telephoneNumber ?? "-"}\t${u.isBot ? "bot" : "user"}${u.deleted ? "\tdeleted" : ""}`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** `hash-password` needs no database: handled before a context is opened. */
export async function hashPasswordCommand(): Promise<void> {
  const password = await readStdin();
  if (!password) throw new UsageError('hash-password reads the password on stdin (e.g. `read -rs P; printf %s "$P" | spika admin hash-password`)');
  process.stdout.write(hashPassword(password) + "\n");
}

/** Runs one command against `ctx`; returns normally on success, throws HttpError / UsageError. */
export async function runAdminCommand(ctx: AppContext, args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: "boolean" }, keyword: { type: "string" }, bots: { type: "boolean" }, page: { type: "string" }, "webhook-url": { type: "string" } },
  });
  const out: Output = {
    json: values.json === true,
    print(data, text) {
      process.stdout.write(this.json ? JSON.stringify(data, null, 2) + "\n" : text + "\n");
    },
  };
  const by: Operator = { operator: `cli:${userInfo().username}` };
  const [area, verb, arg] = positionals;
  const command = [area, verb].filter(Boolean).join(" ");

  if (command === "users list") {
    const page = await listAccounts(ctx.db, { page: pageOf(values.page), keyword: values.keyword, bots: values.bots === true, dialect: ctx.dialect });
    const list = page.list.map(adminUserView);
    return out.print({ ...page, list }, [...list.map(userLine), `(${list.length} of ${page.count})`].join("\n"));
  }
  if (command === "users show" || command === "users delete") {
    const user = await accountById(ctx.db, idArg(arg, "userId"));
    if (!user || (command === "users delete" && user.deleted === 1)) throw new HttpError(404, `user ${arg} not found`);
    if (command === "users delete") {
      await deleteMe(ctx, by, user);
      return out.print({ deleted: true }, `deleted user ${user.id}`);
    }
    const devices = (await devicesOf(ctx.db, user.id)).map((d) => adminDeviceView(d));
    const deviceLines = devices.map((d) => `  device ${d.id}\t${d.osName ?? "?"} ${d.osVersion ?? ""}\t${(d.tokenExpiredAt ?? 0) > Date.now() ? "active" : "logged out"}`);
    return out.print({ user: adminUserView(user), devices }, [userLine(adminUserView(user)), ...deviceLines].join("\n"));
  }
  if (command === "devices logout") {
    const device = await logout(ctx, by, idArg(arg, "deviceId"));
    return out.print({ expired: true, device: adminDeviceView(device) }, `device ${device.id} of user ${device.userId} logged out`);
  }
  if (command === "bots create") {
    if (!arg?.trim()) throw new UsageError("bots create needs a display name");
    const webhookUrl = values["webhook-url"];
    if (webhookUrl && !/^https?:\/\/\S+$/.test(webhookUrl)) throw new UsageError("--webhook-url must be an http(s) URL");
    const bot = await createBot(ctx, by, { displayName: arg.trim(), webhookUrl });
    return out.print({ user: botView(bot.user, [bot.device], bot.token) }, `bot ${bot.user.id} created; access token (shown once): ${bot.token}`);
  }
  if (command === "stats") {
    const c = await counts(ctx.db);
    return out.print(c, `users ${c.users}\nbots ${c.bots}\ngroups ${c.groups}`);
  }
  throw new UsageError(command ? `unknown admin command "${command}"` : "an admin command is required");
}
