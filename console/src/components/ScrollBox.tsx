import type { ComponentChildren } from "preact";

/** A wide table's own sideways scroller: a named region in the Tab order, so keyboard users can scroll it too. */
export function ScrollBox({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
