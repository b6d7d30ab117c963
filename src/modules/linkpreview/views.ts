// Head tags of a page → the link preview model of API.md §4.14 (`get-thumbnail`).
import Type from "typebox";
import { Nullable } from "../../http/schema.js";
import type { HeadTags } from "./parse.js";

export const LinkPreview = Type.Object({
  title: Type.String(),
  description: Nullable(Type.String()),
  image: Nullable(Type.String()),
  icon: Nullable(Type.String()),
  url: Type.String(),
});
export type LinkPreviewView = Type.Static<typeof LinkPreview>;

const MAX_TITLE = 300;
const MAX_DESCRIPTION = 1000;
const MAX_URL = 2048;

/** Whitespace collapsed, trimmed, cut to `max` characters; null when nothing is left. */
function cleanText(value: string | null | undefined, max: number): string | null {
  const text = (value ?? "").replace(/\s+/g, " ").trim();
  if (!text) return null;
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}

/** `value` resolved against the page; only http(s) URLs of sensible length are kept. */
function absoluteUrl(value: string | null | undefined, page: URL): string | null {
  const raw = value?.trim();
  if (!raw) return null;
  try {
    const url = new URL(raw, page);
    return (url.protocol === "http:" || url.protocol === "https:") && url.href.length <= MAX_URL ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * The preview of the page at `page` (the URL finally read, after redirects): Open Graph values
 * first, then Twitter cards and plain HTML (<title>, meta description, icons). No title → null.
 */
export function linkPreviewView(tags: HeadTags, page: URL): LinkPreviewView | null {
  const m = tags.meta;
  const title = cleanText(m.get("og:title") ?? m.get("twitter:title") ?? tags.title, MAX_TITLE);
  if (title === null) return null;
  const image = ["og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"].map((k) => absoluteUrl(m.get(k), page)).find((u) => u !== null);
  return {
    title,
    description: cleanText(m.get("og:description") ?? m.get("twitter:description") ?? m.get("description"), MAX_DESCRIPTION),
    image: image ?? null,
    icon: absoluteUrl(tags.icon, page) ?? absoluteUrl(tags.touchIcon, page),
    url: absoluteUrl(m.get("og:url"), page) ?? page.href,
  };
}
