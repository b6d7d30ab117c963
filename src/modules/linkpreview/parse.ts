// Reads the link-preview tags of an HTML page as it arrives: Open Graph <meta property="og:*">,
// their Twitter and plain fallbacks, <title> and <link rel="icon">. Tags that matter live in
// <head>, so reading stops at </head> or <body>.
import { Parser } from "htmlparser2";

/** Raw values as found on the page (entities decoded; URLs not yet resolved). */
export interface HeadTags {
  /** `og:title`, `og:description`, `twitter:image`, `description`, …: the first value of each. */
  meta: Map<string, string>;
  title: string | null;
  /** The first `<link rel="icon">` (or "shortcut icon") and the first apple-touch-icon. */
  icon: string | null;
  touchIcon: string | null;
}

const META_KEYS = new Set([
  "og:title",
  "og:description",
  "og:image",
  "og:image:url",
  "og:image:secure_url",
  "og:url",
  "twitter:title",
  "twitter:description",
  "twitter:image",
  "twitter:image:src",
  "description",
]);

/** Longest <title> text kept while reading (a page could put megabytes in it). */
const MAX_TITLE_CHARS = 2000;

export class HeadReader {
  readonly tags: HeadTags = { meta: new Map(), title: null, icon: null, touchIcon: null };
  private inTitle = false;
  private titleText = "";
  private ended = false;
  private readonly parser = new Parser(
    {
      onopentag: (name, attrs) => {
        // The rest of a chunk is still parsed after the head ends: ignore it.
        if (this.ended) return;
        if (name === "body") this.ended = true;
        else if (name === "title" && this.tags.title === null) this.inTitle = true;
        else if (name === "meta") this.meta(attrs);
        else if (name === "link") this.link(attrs);
      },
      ontext: (text) => {
        if (this.inTitle && this.titleText.length < MAX_TITLE_CHARS) this.titleText += text;
      },
      onclosetag: (name) => {
        if (name === "head") this.ended = true;
        if (name === "title" && this.inTitle) {
          this.inTitle = false;
          this.tags.title = this.titleText;
        }
      },
    },
    { decodeEntities: true },
  );

  /** What was found; a <title> cut off by the end of what was read counts as far as it went. */
  result(): HeadTags {
    if (this.inTitle && this.tags.title === null) this.tags.title = this.titleText;
    return this.tags;
  }

  /** Feeds more of the page; false once the head is over (nothing more is needed). */
  write(text: string): boolean {
    if (!this.ended) this.parser.write(text);
    return !this.ended;
  }

  private meta(attrs: Record<string, string>): void {
    const key = (attrs.property ?? attrs.name ?? "").trim().toLowerCase();
    const content = attrs.content;
    if (content !== undefined && META_KEYS.has(key) && !this.tags.meta.has(key)) this.tags.meta.set(key, content);
  }

  private link(attrs: Record<string, string>): void {
    const rel = (attrs.rel ?? "").toLowerCase().split(/\s+/);
    const href = attrs.href;
    if (!href) return;
    if (rel.includes("icon") && this.tags.icon === null) this.tags.icon = href;
    else if (rel.includes("apple-touch-icon") && this.tags.touchIcon === null) this.tags.touchIcon = href;
  }
}
