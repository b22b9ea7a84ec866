/** Namespace, name and the Secret that holds the credentials: the parts of a resource outside its spec. */
import { controlId } from "../../components/Field.tsx";

export interface Metadata {
  namespace: string;
  name: string;
  secretName: string;
}

/** Moves focus to the first control marked invalid, so a keyboard user lands on what to fix. */
export function focusFirstError(): void {
  document.querySelector<HTMLElement>("[aria-invalid='true']")?.focus();
}

function Text({ id, label, value, error, hint, onInput, disabled, list }: { id: string; label: string; value: string; error?: string | undefined; hint?: string; onInput: (v: string) => void; disabled?: boolean; list?: string }) {
  const cid = controlId(id);
  const described = [hint ? `${cid}-hint` : "", error ? `${cid}-error` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class={`field${error ? " invalid" : ""}`}>
      <label for={cid}>{label}</label>
      <input id={cid} type="text" value={value} disabled={disabled} list={list} autoComplete="off" spellcheck={false} aria-describedby={described} aria-invalid={error ? true : undefined} onInput={(e) => onInput(e.currentTarget.value)} />
      {hint && (
        <p class="hint" id={`${cid}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${cid}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function MetadataFields(props: {
  meta: Metadata;
  onChange: (m: Metadata) => void;
  errors: { namespace?: string | undefined; name?: string | undefined };
  namespaces: string[];
  locked: boolean;
  secretName: string;
  secretError?: string | undefined;
  editing: boolean;
}) {
  const { meta, onChange, errors, namespaces, locked } = props;
  return (
    <fieldset class="card">
      <legend>Resource</legend>
      <Text
        id="_namespace"
        label="Namespace"
        value={meta.namespace}
        error={errors.namespace}
        disabled={locked}
        hint={namespaces.length > 0 ? `Namespaces bound to this tenant: ${namespaces.join(", ")}.` : "A namespace bound to this tenant (label trailkeeper.dev/tenant)."}
        {...(namespaces.length > 0 ? { list: "namespaces" } : {})}
        onInput={(v) => onChange({ ...meta, namespace: v })}
      />
      {namespaces.length > 0 && (
        <datalist id="namespaces">
          {namespaces.map((n) => (
            <option key={n} value={n} />
          ))}
        </datalist>
      )}
      <Text id="_name" label="Name" value={meta.name} error={errors.name} disabled={locked} onInput={(v) => onChange({ ...meta, name: v })} />
      <Text
        id="_secretName"
        label="Secret name"
        value={meta.secretName}
        error={props.secretError}
        hint={`Kubernetes Secret in the same namespace that holds the credentials; empty means ${props.secretName}.${props.editing ? " A secret left empty keeps the Secret and key it is stored in; one typed again is stored in this Secret." : ""}`}
        onInput={(v) => onChange({ ...meta, secretName: v })}
      />
    </fieldset>
  );
}
