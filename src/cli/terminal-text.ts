// Makes text that came from a peer (remote error messages, method and parameter names, HTTP bodies,
// logged values and stacks) safe to show on a terminal: every control character is replaced by a
// visible JSON-style escape, so ESC sequences (colours, cursor moves, OSC 52 clipboard writes) and
// carriage returns cannot act on the terminal or forge lines. Knows nothing of where the text goes.

// \p{Cc} is C0, DEL and C1; then the Unicode line separators and the bidirectional marks and
// overrides that make text display differently from what it is ("Trojan source"). \n is left out
// of the first pattern so callers can keep the newlines of their own layout.
// ([^\P{Cc}\n] is "Cc but not \n"; a lookahead instead measured about 5x slower per log line.)
const unsafeExceptNewline = /[^\P{Cc}\n]|[\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu;
const unsafe = /[\p{Cc}\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu;

const shortEscapes: Readonly<Record<string, string>> = {
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\f': '\\f',
  '\r': '\\r',
};

function escapeOne(char: string): string {
  return shortEscapes[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

export interface EscapeOptions {
  /** Keep \n as it is: for text whose newlines are our own layout (a stack's lines, indented JSON). */
  keepNewlines?: boolean;
}

/**
 * `text` with each control character shown as an escape: ESC as `\u001b`, CR as `\r`, DEL as
 * `\u007f`. Applied to JSON text it keeps the JSON valid and equal in value, as these characters can
 * only occur inside its strings (and JSON.stringify already escapes C0 there).
 */
export function escapeControls(text: string, options: EscapeOptions = {}): string {
  const pattern = options.keepNewlines === true ? unsafeExceptNewline : unsafe;
  pattern.lastIndex = 0;
  return pattern.test(text) ? text.replace(pattern, escapeOne) : text;
}
