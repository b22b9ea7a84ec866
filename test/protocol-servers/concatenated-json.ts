/**
 * Splits Splunk HEC's batch format — JSON objects back to back, no array, no commas — into object texts. Stops at
 * the first object that is not well-formed and reports its position, as HEC does with `invalid-event-number`.
 */
export function splitConcatenatedJson(text: string): { objects: string[]; invalidAt?: number } {
  const objects: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    if (text[i] !== "{") return { objects, invalidAt: objects.length };
    const end = objectEnd(text, i);
    if (end === undefined) return { objects, invalidAt: objects.length };
    objects.push(text.slice(i, end));
    i = end;
  }
  return { objects };
}

/** Index after the `}` closing the object that starts at `start`, or undefined if it never closes. */
function objectEnd(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}
