// GET /messages/get-thumbnail (§4.14): Open Graph previews fetched from a local HTTP server the
// test runs (LINK_PREVIEW_ALLOW_PRIVATE=1), the size/time/type bounds of the fetch, the cache, the
// rate limit, and the SSRF guard refusing that same server when private targets are not allowed.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { call, signUp, startTestServer, type SignedUp, type TestServer } from "./helpers.js";
import { assertError, assertOk } from "./room-helpers.js";
import { FETCH_TIMEOUT_MS, MAX_PAGE_BYTES, PREVIEWS_PER_MINUTE } from "../src/modules/linkpreview/actions.js";

const PATH = "/api/messenger/messages/get-thumbnail";

const OG_PAGE = `<!doctype html><html><head>
  <meta charset="utf-8"><title>Plain title</title>
  <meta property="og:title" content="Tom &amp; Jerry &#x2014; the &quot;chase&quot;">
  <meta property="og:description" content="  A cat,
     a mouse &lt;and&gt; a house ">
  <meta property="og:image" content="/img/cover.png?x=1&amp;y=2">
  <link rel="shortcut icon" href="favicon.ico">
</head><body><meta property="og:title" content="not from the body"></body></html>`;

/** The pages of the local site; `hits` counts requests per path, `closed` the endless ones ended. */
function site() {
  const hits = new Map<string, number>();
  let closed = 0;
  const closeWaiters: Array<{ count: number; resolve: () => void }> = [];
  const onClosed = () => {
    closed++;
    for (const w of closeWaiters.filter((w) => closed >= w.count)) closeWaiters.splice(closeWaiters.indexOf(w), 1) && w.resolve();
  };
  const html = (res: ServerResponse, body: string) => res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(body);
  const endless = (res: ServerResponse, head: string, filler: string) => {
    res.on("close", onClosed);
    res.writeHead(200, { "content-type": "text/html" });
    res.write(head);
    const more = () => {
      while (!res.destroyed && res.write(filler));
      if (!res.destroyed) res.once("drain", more);
    };
    more();
  };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url!, "http://x").pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    switch (path) {
      case "/og":
      case "/cached":
      case "/guarded":
        return html(res, OG_PAGE);
      case "/sub/dir/page":
        return html(
          res,
          `<head><meta property="og:title" content="Relative"><meta property="og:image" content="../pic.jpg"><meta property="og:url" content="https://example.com/canonical"><link rel="apple-touch-icon" href="/touch.png"></head>`,
        );
      case "/title-only":
        return html(res, "<html><head><TITLE>\n  Only a   &lt;title&gt;\n</TITLE></head><body>text</body></html>");
      case "/no-title":
        return html(res, "<html><head><meta name='x' content='y'></head><body><h1>Hi</h1></body></html>");
      case "/og-in-body":
        return html(res, `<html><head><title>Head title</title></head><body><meta property="og:title" content="In the body"></body></html>`);
      case "/latin1":
        res.writeHead(200, { "content-type": "text/html; charset=iso-8859-1" });
        return res.end(Buffer.from("<title>Caf\xe9</title>", "latin1"));
      case "/json":
        // Looks like HTML, but says it is not.
        res.writeHead(200, { "content-type": "application/json" });
        return res.end("<html><head><title>not html</title></head></html>");
      case "/missing":
        res.writeHead(404, { "content-type": "text/html" });
        return res.end("<title>Not found page</title>");
      case "/redirect":
        res.writeHead(302, { location: "/og" });
        return res.end();
      case "/loop":
        res.writeHead(301, { location: "/loop" });
        return res.end();
      case "/endless-head":
        // The head never ends: reading must stop at the byte limit, with what it found so far.
        return endless(res, "<html><head><title>Endless</title>", `<meta name="filler" content="${"x".repeat(1000)}">`);
      case "/endless-body":
        // The tags are in the head; the body never ends: reading stops at <body>.
        return endless(res, `<html><head><meta property="og:title" content="Big page"></head><body>`, `<p>${"x".repeat(1000)}</p>`);
      case "/late-title":
        return html(res, `<html><head>${`<meta name="filler" content="${"x".repeat(1000)}">`.repeat(Math.ceil((MAX_PAGE_BYTES * 2) / 1000))}<title>Too late</title></head></html>`);
      case "/slow":
        // Headers, a trickle that never finishes the page.
        res.writeHead(200, { "content-type": "text/html" });
        res.write("<html><head>");
        return;
      default:
        res.writeHead(404).end();
    }
  });
  return {
    server,
    hits,
    closed: () => closed,
    /** Resolves once `count` endless answers have been closed (by the reader giving up). */
    closedAtLeast: (count: number) => new Promise<void>((resolve) => (closed >= count ? resolve() : closeWaiters.push({ count, resolve }))),
  };
}

describe("link previews", () => {
  let server: TestServer;
  let guarded: TestServer;
  let limited: TestServer;
  let alice: SignedUp;
  let site_: ReturnType<typeof site>;
  let base: string;

  before(async () => {
    site_ = site();
    await new Promise<void>((resolve) => site_.server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(site_.server.address() as AddressInfo).port}`;
    server = await startTestServer({ LINK_PREVIEW_ALLOW_PRIVATE: "1" });
    alice = await signUp(server);
  });
  after(async () => {
    site_.server.closeAllConnections();
    site_.server.close();
    await server.close();
  });

  const preview = (url: string | undefined, who: SignedUp | null = alice, on: TestServer = server) =>
    call(on, "GET", url === undefined ? PATH : `${PATH}?url=${encodeURIComponent(url)}`, who ? { token: who.token } : {});

  it("answers the Open Graph tags, entities decoded, relative URLs resolved against the page", async () => {
    const data = assertOk(await preview(`${base}/og`));
    assert.deepEqual(data, {
      title: 'Tom & Jerry \u2014 the "chase"',
      description: "A cat, a mouse <and> a house",
      image: `${base}/img/cover.png?x=1&y=2`,
      icon: `${base}/favicon.ico`,
      url: `${base}/og`,
    });
    const other = assertOk(await preview(`${base}/sub/dir/page`));
    assert.deepEqual(other, { title: "Relative", description: null, image: `${base}/sub/pic.jpg`, icon: `${base}/touch.png`, url: "https://example.com/canonical" });
  });

  it("falls back to <title> when the page has no og:title, and decodes the page's charset", async () => {
    assert.deepEqual(assertOk(await preview(`${base}/title-only`)), { title: "Only a <title>", description: null, image: null, icon: null, url: `${base}/title-only` });
    assert.equal(assertOk(await preview(`${base}/latin1`)).title, "Café");
    assert.equal(assertOk(await preview(`${base}/og-in-body`)).title, "Head title", "tags after <body> are not read");
  });

  it("404 No thumbnail found: no title, not HTML, not a 2xx, nothing listening", async () => {
    for (const path of ["/no-title", "/json", "/missing", "/loop"]) assertError(await preview(`${base}${path}`), 404, /^No thumbnail found$/);
    assertError(await preview("http://127.0.0.1:1/"), 404, /^No thumbnail found$/);
    assert.ok((site_.hits.get("/loop") ?? 0) <= 4, "at most 3 redirects are followed");
  });

  it("follows redirects and answers the final page's URL", async () => {
    const data = assertOk(await preview(`${base}/redirect`));
    assert.equal(data.title, 'Tom & Jerry \u2014 the "chase"');
    assert.equal(data.url, `${base}/og`);
  });

  it("reads a bounded part of a page: stops at <body>, and at the byte limit in an endless head", async () => {
    const closedBefore = site_.closed();
    assert.equal(assertOk(await preview(`${base}/endless-body`)).title, "Big page");
    assert.equal(assertOk(await preview(`${base}/endless-head`)).title, "Endless");
    assertError(await preview(`${base}/late-title`), 404, /^No thumbnail found$/);
    // The endless pages were answered, so their connections were given up, not read to the end.
    await site_.closedAtLeast(closedBefore + 2);
  });

  it("gives up on a slow server within the time limit (404)", { timeout: FETCH_TIMEOUT_MS * 3 }, async () => {
    const started = Date.now();
    assertError(await preview(`${base}/slow`), 404, /^No thumbnail found$/);
    assert.ok(Date.now() - started < FETCH_TIMEOUT_MS * 3, "answered within the time limit");
  });

  it("caches a preview per URL: the second request does not reach the site", async () => {
    const first = assertOk(await preview(`${base}/cached`));
    const second = assertOk(await preview(`${base}/cached#fragment`));
    assert.deepEqual(second, first);
    assert.equal(site_.hits.get("/cached"), 1);
  });

  it("validates url (400 naming it) and requires a token (401)", async () => {
    assertError(await preview(undefined), 400, /url/);
    assertError(await preview(""), 400, /url/);
    for (const bad of ["ftp://example.com/x", "javascript:alert(1)", "mailto:someone@example.com", "http://user:pw@example.com/", "http://"]) {
      assertError(await preview(bad), 400, /^url must be an http\(s\) URL$/);
    }
    assertError(await preview(`${base}/og`, null), 401);
  });

  describe("with private targets refused (the default)", () => {
    before(async () => {
      guarded = await startTestServer();
    });
    after(() => guarded.close());

    it("refuses the loopback site without contacting it: 404 No thumbnail found", async () => {
      const bob = await signUp(guarded);
      const port = (site_.server.address() as AddressInfo).port;
      for (const url of [`${base}/guarded`, `http://localhost:${port}/guarded`, `http://[::ffff:127.0.0.1]:${port}/guarded`, `127.0.0.1:${port}/guarded`]) {
        assertError(await preview(url, bob, guarded), 404, /^No thumbnail found$/);
      }
      assert.equal(site_.hits.get("/guarded"), undefined, "the site was never asked");
    });
  });

  describe("with rate limits on", () => {
    before(async () => {
      limited = await startTestServer({ LINK_PREVIEW_ALLOW_PRIVATE: "1", RATE_LIMIT: "on" });
    });
    after(() => limited.close());

    it(`allows ${PREVIEWS_PER_MINUTE} previews a minute per token, then 429`, async () => {
      const carol = await signUp(limited);
      const dave = await signUp(limited);
      for (let i = 0; i < PREVIEWS_PER_MINUTE; i++) assertOk(await preview(`${base}/og`, carol, limited));
      assertError(await preview(`${base}/og`, carol, limited), 429);
      assertOk(await preview(`${base}/og`, dave, limited));
    });
  });
});
