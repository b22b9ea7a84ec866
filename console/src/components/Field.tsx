/** One labelled form control with its hint and its error, both tied to it by aria-describedby. */
import type { FieldSpec, FormValues } from "../pages/log-forwarding/form-model.ts";

export const controlId = (id: string) => `f-${id.replace(/[^A-Za-z0-9_-]/g, "-")}`;

export function FormField({ field, values, error, onChange, disabled }: { field: FieldSpec; values: FormValues; error?: string | undefined; onChange: (id: string, v: string | boolean) => void; disabled?: boolean }) {
  const id = controlId(field.id);
  const described = [field.hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  const common = { id, name: field.id, disabled, "aria-describedby": described, "aria-invalid": error ? true : undefined } as const;
  const value = values[field.id];
  const text = typeof value === "string" ? value : "";
  let control;
  if (field.kind === "checkbox") {
    control = <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(field.id, e.currentTarget.checked)} />;
  } else if (field.kind === "select") {
    control = (
      <select {...common} value={text} onChange={(e) => onChange(field.id, e.currentTarget.value)}>
        {(field.options ?? []).map((o) => (
          <option key={o} value={o}>
            {o === "" ? "default" : o}
          </option>
        ))}
      </select>
    );
  } else {
    // Preact's types tie some attributes to literal input types; both types here take the same attributes.
    const type = (field.kind === "secret" ? "password" : "text") as "text";
    control = (
      <input
        type={type}
        {...common}
        value={text}
        placeholder={field.placeholder}
        inputMode={field.kind === "number" ? "numeric" : undefined}
        autoComplete={field.kind === "secret" ? "new-password" : "off"}
        spellcheck={false}
        onInput={(e) => onChange(field.id, e.currentTarget.value)}
      />
    );
  }
  return (
    <div class={`field field-${field.kind}${error ? " invalid" : ""}`}>
      {field.kind === "checkbox" ? (
        <label class="check" for={id}>
          {control} {field.label}
        </label>
      ) : (
        <>
          <label for={id}>{field.label}</label>
          {control}
        </>
      )}
      {field.hint && (
        <p class="hint" id={`${id}-hint`}>
          {field.hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
