import type { StoredEvent } from "../events/model.ts";

/** The line-oriented formats (CEF, LEEF) keep one event on one line: header fields get spaces for line breaks. */
export function singleLine(value: string): string {
  return value.replace(/\r\n|[\r\n]/g, " ");
}

/** `details` as compact JSON, or undefined; the line formats carry it as one string. */
export function detailsText(event: StoredEvent): string | undefined {
  return event.details === undefined ? undefined : JSON.stringify(event.details);
}

/** Pairs whose value is undefined are left out: CEF and LEEF have no null. */
export function present(pairs: readonly (readonly [string, string | number | undefined])[]): [string, string][] {
  return pairs.flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]]));
}

/** Vendor, product and format version in every CEF and LEEF header; receivers pick their parser by them. */
export const deviceVendor = "Trailkeeper";
export const deviceProduct = "Trailkeeper";
/** The version of our CEF/LEEF mapping (not of the software): bump it when the fields change. */
export const deviceVersion = "1.0";
