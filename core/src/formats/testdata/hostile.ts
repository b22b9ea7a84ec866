/** Text that breaks naive line formats: their separators, escapes, line breaks, non-ASCII, and sheer size. */
export const hostileStrings: readonly string[] = [
  "pipe | in | the middle|",
  "back\\slash\\ and \\\\ doubled, and a trailing one\\",
  "equals = sign and key=value and a b=c looking like a pair",
  "line\nbreak\r\nand carriage\rreturn\n",
  "tab\tseparated\tvalues\t", "caret ^ separated ^ values^",
  "Ünïcødé 日本語 emoji 🔐 and RTL \u202e",
  " leading and trailing spaces ",
  "\\=\\|\\n literal escapes",
  `${"x=\\|\n".repeat(1024)}${"é".repeat(3000)}`,
];
