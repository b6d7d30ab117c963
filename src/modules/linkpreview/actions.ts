// Link previews (API.md §4.14 `get-thumbnail`): the page is fetched through the SSRF guard of
// webhooks (src/providers/safeHttp.ts) with a time, size and redirect budget, and the result
// (found or not) is kept for a while per URL, so a client asking on every keystroke costs one
// fetch. Concurrent requests for one URL share that fetch.
import type { MeOnDevice } from "../../actor.js";
import type { AppContext } from "../../context.js";
import { badRequest, notFound } from "../../http/errors.js";
import { readText } from "../../providers/safeHttp.js";
import { HeadReader } from "./parse.js";
import { linkPreviewView, type LinkPreviewView } from "./views.js";

export const FETCH_TIMEOUT_MS = 5000;
/** The head of a page is nearly always within the first tens of KB. */
export const MAX_PAGE_BYTES = 512 * 1024;
const MAX_REDIRECTS = 3;
/** Previews asked for per device (token) and minute, cached ones included. */
export const PREVIEWS_PER_MINUTE = 60;
const CACHE_ENTRIES = 1000;
const FOUND_TTL_MS = 10 * 60_000;
/** Misses (no title, timeouts, refused targets) are kept shorter: a site may come back. */
const MISSING_TTL_MS = 60_000;

const REQUEST_HEADERS = {
  "user-agent": "Mozilla/5.0 (compatible; SpikaLinkPreview/1.0)",
  accept: "text/html",
};

interface Entry {
  expiresAt: number;
  preview: Promise<LinkPreviewView | null>;
}

/**
 * `raw` as an absolute http(s) URL: scheme-less links as users type them ("www.example.com/x",
 * "host:8080") get http://; other schemes and embedded credentials are refused (400).
 */
function requestedUrl(raw: string): URL {
  const text = raw.trim();
  const withScheme = /^https?:\/\//i.test(text) ? text : /^[^:/?#]+(:\d+)?([/?#]|$)/.test(text) ? `http://${text}` : null;
  let url: URL | null = null;
  try {
    if (withScheme !== null) url = new URL(withScheme);
  } catch {
    url = null;
  }
  if (url === null || url.username || url.password) throw badRequest("url must be an http(s) URL");
  url.hash = "";
  return url;
}

/** One per app: the cache is shared by every request of this instance. */
export class LinkPreviews {
  private readonly cache = new Map<string, Entry>();

  constructor(private readonly ctx: AppContext) {}

  /** The preview of `rawUrl` for `me`'s device; 400 bad url, 404 `No thumbnail found`, 429. */
  async preview(me: MeOnDevice, rawUrl: string): Promise<LinkPreviewView> {
    const url = requestedUrl(rawUrl);
    await this.ctx.limiter.hit(`link-preview:${me.device.id}`, PREVIEWS_PER_MINUTE, 60_000);
    const preview = await this.cached(url.href, () => this.fetchPreview(url.href));
    if (preview === null) throw notFound("No thumbnail found");
    return preview;
  }

  private cached(key: string, load: () => Promise<LinkPreviewView | null>): Promise<LinkPreviewView | null> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > now) return hit.preview;
    this.cache.delete(key);
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    const entry: Entry = { expiresAt: now + FOUND_TTL_MS, preview: load() };
    entry.preview.then((p) => {
      if (p === null) entry.expiresAt = Date.now() + MISSING_TTL_MS;
    });
    this.cache.set(key, entry);
    return entry.preview;
  }

  /** Fetches and reads the page; every failure (refused, timeout, not HTML, no title) is null. */
  private async fetchPreview(href: string): Promise<LinkPreviewView | null> {
    const reader = new HeadReader();
    try {
      const page = await readText(href, REQUEST_HEADERS, {
        timeoutMs: FETCH_TIMEOUT_MS,
        allowPrivate: this.ctx.config.linkPreviewAllowPrivate,
        maxBytes: MAX_PAGE_BYTES,
        maxRedirects: MAX_REDIRECTS,
        accept: (mediaType) => mediaType === "text/html",
        onText: (text) => reader.write(text),
      });
      return linkPreviewView(reader.result(), page);
    } catch (err) {
      this.ctx.log.debug({ err, url: href }, "no link preview");
      return null;
    }
  }
}
