/**
 * Parsers written from the CEF (ArcSight "Implementing ArcSight CEF", rev. 25) and LEEF 2.0 (IBM QRadar) texts,
 * deliberately not sharing code with the formatters: tests run what the formatters produce through them, so an
 * escaping mistake shows as a value that does not come back.
 */

export interface ParsedRecord {
  header: string[];
  fields: Map<string, string>;
}

/** Splits on `sep` where it is not escaped; keeps escapes in the parts (the caller unescapes). */
function splitUnescaped(text: string, sep: string, limit: number): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      current += c + text[i + 1]!;
      i++;
    } else if (c === sep && parts.length < limit - 1) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}

function unescape(text: string, simple: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === "n") out += "\n";
    else if (next === "r") out += "\r";
    else if (next !== undefined && simple.includes(next)) out += next;
    else throw new Error(`invalid escape \\${next ?? "<end>"} at ${i}`);
  }
  return out;
}

/** CEF: seven `|`-separated header fields after `CEF:0`, then `key=value` pairs separated by spaces. */
export function parseCef(record: string): ParsedRecord {
  if (/[\r\n]/.test(record)) throw new Error("a CEF record must be one line");
  const parts = splitUnescaped(record, "|", 8);
  if (parts.length !== 8 || parts[0] !== "CEF:0") throw new Error(`not a CEF:0 record: ${record.slice(0, 80)}`);
  const header = parts.slice(1, 7).map((h) => unescape(h, "\\|"));
  return { header, fields: parseCefExtension(parts[7]!) };
}

/** A key starts after a space and runs to an unescaped `=`; the value runs to the space before the next key. */
function parseCefExtension(extension: string): Map<string, string> {
  const fields = new Map<string, string>();
  const keyStarts = [...extension.matchAll(/(?:^| )([A-Za-z0-9_]+)=/g)].filter((m) => !isEscaped(extension, m.index + m[0].length - 1));
  keyStarts.forEach((m, i) => {
    const valueStart = m.index + m[0].length;
    const valueEnd = i + 1 < keyStarts.length ? keyStarts[i + 1]!.index : extension.length;
    const key = m[1]!;
    if (fields.has(key)) throw new Error(`duplicate key ${key}`);
    fields.set(key, unescape(extension.slice(valueStart, valueEnd), "\\="));
  });
  return fields;
}

function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  for (let i = index - 1; i >= 0 && text[i] === "\\"; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** The delimiter field of a LEEF 2.0 header: one character, or its hex code as `xHH` / `0xHH`. */
function leefDelimiterOf(field: string): string {
  const hex = /^(?:0x|x)([0-9a-fA-F]{2,4})$/.exec(field);
  if (hex) return String.fromCharCode(Number.parseInt(hex[1]!, 16));
  if (field.length === 1) return field;
  throw new Error(`invalid LEEF delimiter ${JSON.stringify(field)}`);
}

/** LEEF 2.0: five header fields after `LEEF:2.0`, the delimiter field, then `key=value` pairs split by it. */
export function parseLeef(record: string): ParsedRecord {
  if (/[\r\n]/.test(record)) throw new Error("a LEEF record must be one line");
  const parts = splitUnescaped(record, "|", 7);
  if (parts.length !== 7 || parts[0] !== "LEEF:2.0") throw new Error(`not a LEEF 2.0 record: ${record.slice(0, 80)}`);
  const delimiter = leefDelimiterOf(parts[5]!);
  const fields = new Map<string, string>();
  for (const pair of splitUnescaped(parts[6]!, delimiter, Number.POSITIVE_INFINITY)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`attribute without a key: ${pair.slice(0, 40)}`);
    const key = pair.slice(0, eq);
    if (fields.has(key)) throw new Error(`duplicate key ${key}`);
    fields.set(key, unescape(pair.slice(eq + 1), `\\${delimiter}`));
  }
  return { header: parts.slice(1, 5).map((h) => unescape(h, "\\|")), fields };
}
