/** An event's details: identity and chain fields, then the whole event as pretty JSON with a copy button. */
import { useState } from "preact/hooks";
import type { StoredEvent } from "../../api/types.ts";
import { visibleText } from "../../components/text.ts";

async function copyText(text: string, fallbackFrom: HTMLElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard API (an insecure origin, a denied permission): copy the selected text the old way.
    if (!fallbackFrom) return false;
    const range = document.createRange();
    range.selectNodeContents(fallbackFrom);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    return document.execCommand("copy");
  }
}

const fields: [string, (e: StoredEvent) => string | number | undefined][] = [
  ["Event id", (e) => e.id],
  ["Sequence (seq)", (e) => e.seq],
  ["Hash", (e) => e.hash],
  ["Previous hash (prevHash)", (e) => e.prevHash],
  ["Occurred at (UTC)", (e) => e.occurredAt],
  ["Received at (UTC)", (e) => e.receivedAt],
  ["Category", (e) => e.category],
  ["Actor", (e) => `${e.actor.id}${e.actor.name ? ` (${e.actor.name})` : ""}, ${e.actor.type}`],
  ["User agent", (e) => e.userAgent],
  ["Session id", (e) => e.sessionId],
  ["Request id", (e) => e.requestId],
];

export function EventDetails({ event, id }: { event: StoredEvent; id: string }) {
  const [copied, setCopied] = useState<"" | "Copied" | "Copy failed">("");
  const json = JSON.stringify(event, null, 2);
  const preId = `${id}-json`;
  return (
    <div class="details" id={id}>
      <dl class="fields">
        {fields.map(([label, get]) => {
          const v = get(event);
          return v === undefined ? null : (
            <div key={label}>
              <dt>{label}</dt>
              <dd class={label.includes("ash") || label === "Event id" ? "mono" : ""}>{visibleText(String(v))}</dd>
            </div>
          );
        })}
      </dl>
      <div class="json-head">
        <h3 id={`${preId}-label`}>Event JSON</h3>
        <button type="button" class="secondary" onClick={async () => setCopied((await copyText(json, document.getElementById(preId))) ? "Copied" : "Copy failed")}>
          Copy JSON
        </button>
        <span role="status" class="copied">
          {copied}
        </span>
      </div>
      <pre id={preId} class="json" tabIndex={0} aria-labelledby={`${preId}-label`}>
        {visibleText(json)}
      </pre>
    </div>
  );
}
