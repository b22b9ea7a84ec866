/**
 * RFC 8785 JSON Canonicalization Scheme (JCS). ECMAScript's own number and string serialisation is what
 * JCS specifies, so JSON.stringify does the leaf work; objects get their keys sorted by UTF-16 code units.
 * Values JCS cannot represent (non-finite numbers, lone surrogates, non-JSON types) throw.
 */
/**
 * An object read back from its stored canonical text carries that text, so re-serialising it (hashing, CSV,
 * JSONL) costs nothing. If the stored text was not canonical (tampered), using it verbatim still changes the
 * hash, which is what verification must detect.
 */
const storedText = Symbol("storedCanonicalText");

export function withStoredText<T extends object>(value: T, text: string): T {
  Object.defineProperty(value, storedText, { value: text, enumerable: false });
  return value;
}

export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      if (!value.isWellFormed()) throw new TypeError("string with a lone surrogate cannot be canonicalised");
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`number ${value} cannot be canonicalised`);
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
      if (storedText in value) return (value as { [storedText]: string })[storedText];
      return canonicalObject(value as Record<string, unknown>);
    default:
      throw new TypeError(`${typeof value} cannot be canonicalised`);
  }
}

function canonicalObject(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  const parts = keys.map((k) => {
    if (!k.isWellFormed()) throw new TypeError("key with a lone surrogate cannot be canonicalised");
    return `${JSON.stringify(k)}:${canonicalJson(obj[k])}`;
  });
  return `{${parts.join(",")}}`;
}
