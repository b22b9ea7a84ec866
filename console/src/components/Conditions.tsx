/** A resource's status conditions (metav1.Condition), as Headlamp shows them: type, status, reason, message, since. */
import { ScrollBox } from "./ScrollBox.tsx";
import type { Condition } from "../api/types.ts";
import { visibleText } from "./text.ts";
import { Timestamp } from "./Timestamp.tsx";

export function StatusBadge({ status, label }: { status: string | undefined; label?: string }) {
  const cls = status === "True" ? "outcome-success" : status === "False" ? "outcome-failure" : "";
  return <span class={`outcome ${cls}`}>{label ?? status ?? "—"}</span>;
}

export const conditionOf = (conditions: Condition[] | undefined, type: string) => conditions?.find((c) => c.type === type);

export function ConditionsTable({ conditions }: { conditions: Condition[] }) {
  if (conditions.length === 0) return <p class="muted">No conditions yet: the operator has not reconciled this resource.</p>;
  return (
    <ScrollBox label="Conditions (scrolls sideways)">
      <table class="plain">
        <caption class="visually-hidden">Conditions</caption>
        <thead>
          <tr>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Reason</th>
            <th scope="col">Message</th>
            <th scope="col">Since</th>
          </tr>
        </thead>
        <tbody>
          {conditions.map((c) => (
            <tr key={c.type}>
              <th scope="row">{visibleText(c.type)}</th>
              <td>
                <StatusBadge status={c.status} />
              </td>
              <td>{visibleText(c.reason)}</td>
              <td class="wrap">{visibleText(c.message)}</td>
              <td>
                <Timestamp iso={c.lastTransitionTime} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}
