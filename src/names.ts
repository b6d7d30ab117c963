// Names people see next to content (display names, room names, bot names) are stored without
// invisible format characters: bidirectional overrides and isolates can make "gpj.exe" read as
// "exe.jpg" or turn a name around, and zero-width characters let one name pose as another.

// U+061C, U+200B–U+200F, U+202A–U+202E, U+2060–U+2064, U+2066–U+2069, U+FEFF. The zero-width
// joiner (U+200D) is kept where it joins emoji (👩‍💻): there it is what draws the sequence.
const INVISIBLE =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: U+FE0F is listed alone on purpose (an emoji presentation selector before the joiner).
  /[\u061C\u200B\u200C\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]|(?<![\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F])\u200D|\u200D(?!\p{Extended_Pictographic})/gu;

/** `name` without invisible format characters; used by every writer of a shown name. */
export function visibleName(name: string): string {
  return name.replace(INVISIBLE, "");
}
