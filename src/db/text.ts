// Case-insensitive text matching that means the same on both engines.
import { sql, type RawBuilder } from "kysely";
import type { Dialect } from "./index.js";

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * `column` contains (or starts with) `keyword`, ignoring case. SQLite's lower() and LIKE fold
 * ASCII letters only ("čedo" would miss "Čedomir"), so there the keyword becomes a GLOB
 * pattern with one class per cased letter (`*[čČ][eE][dD][oO]*`); GLOB has no escape
 * character, so its own metacharacters become one-letter classes (`[*]`).
 */
export function matchesIgnoringCase(column: string, keyword: string, dialect: Dialect, mode: "contains" | "prefix" = "contains"): RawBuilder<boolean> {
  const lead = mode === "contains" ? "%" : "";
  if (dialect === "postgres") return sql<boolean>`lower(${sql.ref(column)}) like lower(${`${lead}${escapeLike(keyword)}%`}) escape '\\'`;
  let pattern = mode === "contains" ? "*" : "";
  for (const ch of keyword) {
    if (ch === "*" || ch === "?" || ch === "[") {
      pattern += `[${ch}]`;
      continue;
    }
    const variants = [...new Set([ch, ch.toLowerCase(), ch.toUpperCase()])].filter((v) => [...v].length === 1);
    pattern += variants.length > 1 ? `[${variants.join("")}]` : ch;
  }
  return sql<boolean>`${sql.ref(column)} glob ${pattern + "*"}`;
}
