// Rules of the code that no request can show: every write goes through `transact` (src/context.ts)
// or is listed, with its reason, in docs/architecture.md ("Writes outside `transact`").
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const WRITE_METHODS = new Set(["insertInto", "updateTable", "deleteFrom", "replaceInto", "mergeInto"]);
const RAW_WRITE = /^\s*(insert|update|delete|replace|merge)\b/i;
/** Where transactions are opened: the database layer, and `transact` on top of it. */
const OPENS_TRANSACTIONS = ["src/db/", "src/context.ts"];

interface Finding {
  file: string;
  fn: string;
  line: number;
  what: string;
}

interface Source {
  file: string;
  text: string;
}

/** The outermost named function around `node` (what a reader finds in the file): `name` or `Class.method`. */
function functionName(node: ts.Node): string {
  let name = "(module)";
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isFunctionDeclaration(n) && n.name) name = n.name.text;
    else if ((ts.isMethodDeclaration(n) || ts.isConstructorDeclaration(n)) && ts.isClassLike(n.parent)) {
      name = `${n.parent.name?.text ?? "(class)"}.${ts.isConstructorDeclaration(n) ? "constructor" : n.name.getText()}`;
    } else if ((ts.isArrowFunction(n) || ts.isFunctionExpression(n)) && ts.isVariableDeclaration(n.parent)) name = n.parent.name.getText();
  }
  return name;
}

type Handle = "transaction" | { prepared: string } | "other";

/**
 * What the identifier `name`, used at `node`, stands for: the transaction of a `transact` (a
 * parameter typed `Tx`, or the untyped first parameter of a callback given to `transact`), the
 * database parameter of a `prepared(...)` statement (named by its runner), or anything else.
 */
function handleOf(node: ts.Node, name: string): Handle {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (!ts.isFunctionLike(n)) continue;
    const index = n.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === name);
    if (index < 0) continue;
    const param = n.parameters[index];
    if (param.type) return param.type.getText() === "Tx" ? "transaction" : "other";
    const call = n.parent;
    if (!ts.isCallExpression(call) || !ts.isIdentifier(call.expression)) return "other";
    if (call.expression.text === "transact" && index === 0) return "transaction";
    if (call.expression.text === "prepared" && index === 0 && ts.isVariableDeclaration(call.parent)) return { prepared: call.parent.name.getText() };
    return "other";
  }
  return "other";
}

/** Writes (and transactions) that do not go through `transact`; `preparedWrites` collects the runners of prepared writes. */
function scanFile(source: Source, preparedWrites: Set<string>): Finding[] {
  const sf = ts.createSourceFile(source.file, source.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Finding[] = [];
  const report = (node: ts.Node, what: string) =>
    found.push({ file: source.file, fn: functionName(node), line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, what });
  const checkReceiver = (node: ts.Node, receiver: ts.Expression | undefined, what: string) => {
    const handle = receiver && ts.isIdentifier(receiver) ? handleOf(node, receiver.text) : "other";
    if (handle === "transaction") return;
    if (typeof handle === "object") preparedWrites.add(handle.prepared);
    else report(node, `${what} on \`${receiver?.getText(sf) ?? "?"}\``);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      const receiver = node.expression.expression;
      if (WRITE_METHODS.has(method)) checkReceiver(node, receiver, method);
      if ((method === "transaction" || method === "startTransaction") && !OPENS_TRANSACTIONS.some((p) => source.file.startsWith(p))) report(node, `${method}() (use transact)`);
      // sql`insert …`.execute(db)
      if (method === "execute" && ts.isTaggedTemplateExpression(receiver) && receiver.tag.getText(sf) === "sql") {
        const template = receiver.template;
        const head = ts.isNoSubstitutionTemplateLiteral(template) ? template.text : template.head.text;
        if (RAW_WRITE.test(head)) checkReceiver(node, node.arguments[0], "raw SQL write");
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Calls of prepared write runners whose database is not a transaction. */
function scanPreparedCalls(source: Source, runners: Set<string>): Finding[] {
  const sf = ts.createSourceFile(source.file, source.text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Finding[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && runners.has(node.expression.text)) {
      const db = node.arguments[0];
      if (!(db && ts.isIdentifier(db) && handleOf(node, db.text) === "transaction")) {
        found.push({
          file: source.file,
          fn: functionName(node),
          line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1,
          what: `prepared write ${node.expression.text} on \`${db?.getText(sf) ?? "?"}\``,
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function directWrites(sources: Source[]): Finding[] {
  const runners = new Set<string>();
  const found = sources.flatMap((s) => scanFile(s, runners));
  return [...found, ...sources.flatMap((s) => scanPreparedCalls(s, runners))];
}

interface Allowed {
  /** A file, or a folder ending in "/". */
  path: string;
  functions: string[];
}

/** The table of docs/architecture.md's section "Writes outside `transact`". */
function allowList(markdown: string): Allowed[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith("Writes outside `transact`"));
  assert.ok(section, 'docs/architecture.md has no section "Writes outside `transact`"');
  const rows = section.split("\n").filter((line) => /^\|\s*`/.test(line));
  return rows.map((row) => {
    const where = row.split("|")[1];
    const [path, ...functions] = [...where.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    return { path, functions };
  });
}

const allows = (entry: Allowed, f: Finding) => (entry.path.endsWith("/") ? f.file.startsWith(entry.path) : entry.path === f.file && entry.functions.includes(f.fn));

function sourcesUnder(dir: string): Source[] {
  return (readdirSync(join(ROOT, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts"))
    .sort()
    .map((f) => {
      const file = relative(ROOT, join(ROOT, dir, f))
        .split("\\")
        .join("/");
      return { file, text: readFileSync(join(ROOT, file), "utf8") };
    });
}

const where = (f: Finding) => `${f.file}:${f.line} (${f.fn}): ${f.what}`;

describe("architecture", () => {
  it("every write goes through transact, or is listed in docs/architecture.md with its reason", () => {
    const allowed = allowList(readFileSync(join(ROOT, "docs/architecture.md"), "utf8"));
    const found = directWrites(sourcesUnder("src"));
    const unlisted = found.filter((f) => !allowed.some((a) => allows(a, f)));
    assert.deepEqual(unlisted.map(where), [], "writes outside transact: wrap them in transact (src/context.ts), or list them in docs/architecture.md with the reason");
    const stale = allowed.flatMap((a) =>
      a.path.endsWith("/")
        ? found.some((f) => allows(a, f))
          ? []
          : [a.path]
        : a.functions.filter((fn) => !found.some((f) => f.file === a.path && f.fn === fn)).map((fn) => `${a.path}: ${fn}`),
    );
    assert.deepEqual(stale, [], "docs/architecture.md lists writes outside transact that are gone: remove them from its table");
  });

  it("the check sees a write outside transact, and none inside", () => {
    const source = (text: string): Source[] => [{ file: "src/modules/x/actions.ts", text }];
    const findings = (text: string) => directWrites(source(text)).map((f) => `${f.fn}: ${f.what}`);
    assert.deepEqual(findings(`async function a(ctx) { await ctx.db.updateTable("devices").set({}).execute(); }`), ["a: updateTable on `ctx.db`"]);
    assert.deepEqual(findings(`const b = (db: Db) => db.deleteFrom("x").execute();`), ["b: deleteFrom on `db`"]);
    assert.deepEqual(findings(`const c = (db: Tx | Db) => sql\`delete from x\`.execute(db);`), ["c: raw SQL write on `db`"]);
    assert.deepEqual(findings(`async function d(ctx) { await ctx.db.transaction().execute(async (trx) => trx.insertInto("x").execute()); }`), [
      "d: transaction() (use transact)",
      "d: insertInto on `trx`",
    ]);
    assert.deepEqual(
      findings(`
        async function e(ctx) { return transact(ctx, async (tx, after) => { await Promise.all([1].map(() => tx.insertInto("x").execute())); }); }
        async function f(tx: Tx) { await tx.updateTable("x").execute(); await sql\`select 1\`.execute(db); }`),
      [],
    );
    // A prepared statement runs on whatever its runner is given.
    assert.deepEqual(
      findings(`
        const put = prepared((db, a: { id: number }) => db.insertInto("x").values(a));
        async function g(tx: Tx) { await put(tx, { id: 1 }); }
        async function h(ctx) { await put(ctx.db, { id: 1 }); }`),
      ["h: prepared write put on `ctx.db`"],
    );
  });
});
