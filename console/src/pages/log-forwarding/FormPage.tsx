/**
 * New and Edit destination: a form per destination type whose rules are the CRD's (form-model.ts), a Test button
 * that runs the server's connection test on what is typed, and Save through Kubernetes or as a manifest to commit.
 * Secrets typed here live in this component's state only and go out inline with a test or a save.
 */
import { useState } from "preact/hooks";
import { useResource } from "../../api/cache.ts";
import { can, useCapabilities } from "../../api/capabilities.ts";
import { api } from "../../api/client.ts";
import type { ConfigCapabilities, ConsoleSession, MirroredResource } from "../../api/types.ts";
import { FormField } from "../../components/Field.tsx";
import { useFormActions, validity } from "../../components/form-actions.ts";
import { FormFooter, GeneralProblems } from "../../components/FormFooter.tsx";
import { ProblemMessage } from "../../components/Problem.tsx";
import { linkClick, navigate } from "../../router.ts";
import { destinationHref } from "./ListPage.tsx";
import { MetadataFields, focusFirstError, type Metadata } from "./MetadataFields.tsx";
import {
  buildSpec,
  defaultSecretName,
  destinationKinds,
  initialValues,
  nameProblem,
  secretNameOf,
  typeLabels,
  validateSpec,
  valuesFromMirror,
  visibleFields,
  type DestinationKind,
  type FieldSpec,
  type FormValues,
  type Validation,
} from "./form-model.ts";

export function DestinationFormPage({ session, namespace, name }: { session: ConsoleSession; namespace?: string; name?: string }) {
  const editing = namespace !== undefined && name !== undefined;
  const existing = useResource(editing ? `config:destination:${namespace}/${name}` : null, () => api.destination(namespace!, name!));
  const capabilities = useCapabilities(session);
  const title = editing ? `Edit ${namespace}/${name}` : "New destination";

  let body;
  if (!can(session, "config:write")) body = <p class="notice">Changing destinations needs the config:write scope.</p>;
  else if (existing.error) body = <ProblemMessage error={existing.error} title="The destination could not be loaded" />;
  else if (!capabilities || (editing && !existing.data)) body = <p class="loading" role="status">Loading…</p>;
  else if (existing.data?.managedBy) body = <p class="notice">Read-only: managed by GitOps ({existing.data.managedBy.reason}). Change it in its Git repository.</p>;
  else body = <DestinationForm session={session} capabilities={capabilities} {...(existing.data ? { existing: existing.data } : {})} />;

  return (
    <section class="page flow" aria-labelledby="page-title">
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <a href="/log-forwarding" onClick={linkClick}>
          Log Forwarding
        </a>
      </nav>
      <header class="page-head">
        <h1 id="page-title">{title}</h1>
      </header>
      {body}
    </section>
  );
}


/** A URL field whose stored query string the mirror cut says so: Save keeps the stored URL while it is unchanged. */
function withRedactionHint(f: FieldSpec, redacted: readonly string[] | undefined): FieldSpec {
  if (!redacted?.includes(f.id)) return f;
  const note = "The stored URL has a query string or fragment, not shown here; it is kept unless you change the URL.";
  return { ...f, hint: f.hint ? `${f.hint} ${note}` : note };
}

function DestinationForm({ session, capabilities, existing }: { session: ConsoleSession; capabilities: ConfigCapabilities; existing?: MirroredResource }) {
  const start = existing ? valuesFromMirror(existing) : { kind: "webhook" as DestinationKind, values: initialValues("webhook") };
  const [kind, setKind] = useState<DestinationKind>(start.kind);
  const [values, setValues] = useState<FormValues>(start.values);
  const [meta, setMeta] = useState<Metadata>({ namespace: existing?.namespace ?? capabilities.namespaces[0] ?? "", name: existing?.name ?? "", secretName: "" });
  // An existing destination is edited from its stored spec, so Save sends back everything the form does not show.
  const base = existing?.spec ?? undefined;
  const secretName = meta.secretName || (base && secretNameOf(kind, base)) || defaultSecretName(meta.name);
  const built = buildSpec(kind, values, secretName, base);
  const validation: Validation = validateSpec(kind, values, built);
  const metaErrors = { namespace: nameProblem(meta.namespace, "namespace"), name: nameProblem(meta.name, "name") };
  const { checked, attempt, setAttempt, test, save } = useFormActions({
    kind: "LogForwardingDestination", meta, built, capabilities, focusFirstError,
    valid: validity(validation, metaErrors),
    runTest: () => api.testDestination(built.spec, built.secrets),
    persist: async () => {
      // The generation the spec was read at: a resource changed since is refused rather than overwritten.
      await api.saveDestination(meta.namespace, meta.name, built.spec, built.secrets, base ? existing?.generation : undefined);
      navigate(destinationHref(meta));
    },
    saveFailedTitle: "The destination could not be saved",
  });
  const shown = checked ? validation : { fields: {}, general: [] };

  const change = (id: string, v: string | boolean) => setValues((s) => ({ ...s, [id]: v }));
  const chooseKind = (k: DestinationKind) => {
    setKind(k);
    setValues(initialValues(k));
    setAttempt({});
  };
  const fields = visibleFields(kind, values).map((f) => withRedactionHint(f, existing?.specRedacted));
  const busy = Boolean(attempt.testing || attempt.saving);
  return (
    <form class="config-form" onSubmit={save} noValidate>
      <MetadataFields meta={meta} onChange={setMeta} errors={checked ? metaErrors : {}} namespaces={capabilities.namespaces} locked={Boolean(existing)} secretName={secretName} secretError={shown.fields._secretName} editing={Boolean(existing)} />
      <fieldset class="card">
        <legend>Type</legend>
        {existing ? (
          <p>{typeLabels[kind]} (the type of an existing destination cannot change)</p>
        ) : (
          <div class="radios">
            {destinationKinds.map((k) => (
              <label key={k} class="check">
                <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => chooseKind(k)} /> {typeLabels[k]}
              </label>
            ))}
          </div>
        )}
      </fieldset>
      <fieldset class="card">
        <legend>{typeLabels[kind]} settings</legend>
        {fields.map((f) => (
          <FormField key={f.id} field={f} values={values} error={shown.fields[f.id]} onChange={change} disabled={busy} />
        ))}
        {existing && (
          <p class="hint">
            Secrets are never shown again: leave a secret empty to keep the stored value.{" "}
            {base
              ? "Settings this form does not show (TLS certificates, filter, delivery tuning) are kept as they are."
              : "The operator has not reported this destination's full settings yet: the form shows only its type, endpoint, format and enabled state, and saving replaces every other setting. Wait for it, or change the resource with kubectl."}
          </p>
        )}
      </fieldset>
      <GeneralProblems problems={shown.general} />
      <FormFooter
        attempt={attempt}
        testLabel="Test"
        onTest={can(session, "config:test") ? test : undefined}
        saveLabel={capabilities.save === "kubernetes" ? "Save" : "Save as manifest"}
        fileName={`${meta.name}.yaml`}
      />
    </form>
  );
}
