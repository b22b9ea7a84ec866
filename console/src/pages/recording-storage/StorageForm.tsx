/** Add or change a RecordingStorage: the CRD's fields, Test Connection on what is typed, Save or a manifest. */
import { useState } from "preact/hooks";
import { can } from "../../api/capabilities.ts";
import { api } from "../../api/client.ts";
import type { ConfigCapabilities, ConsoleSession, MirroredResource } from "../../api/types.ts";
import { FormField } from "../../components/Field.tsx";
import { useFormActions, validity } from "../../components/form-actions.ts";
import { FormFooter, GeneralProblems } from "../../components/FormFooter.tsx";
import { nameProblem, type FormValues } from "../log-forwarding/form-model.ts";
import { focusFirstError, MetadataFields, type Metadata } from "../log-forwarding/MetadataFields.tsx";
import { buildStorageSpec, storageFields, storageSecretNameOf, storageValuesFromSpec, validateStorage } from "./storage-model.ts";


/** Form values from a mirrored storage: its spec, or its bucket details in rows mirrored before the spec was. */
export function storageValues(m: MirroredResource): FormValues {
  if (m.spec) return storageValuesFromSpec(m.spec);
  const d = m.details;
  return {
    bucket: String(d.bucket ?? ""),
    region: String(d.region ?? ""),
    endpoint: m.endpoint ?? "",
    prefix: String(d.prefix ?? ""),
    forcePathStyle: d.forcePathStyle === true,
    allowInsecureHttp: (m.endpoint ?? "").startsWith("http://"),
  };
}

function EditHint({ editing }: { editing: MirroredResource }) {
  const kept = editing.spec ? " Settings this form does not show (encryption, TLS certificates, intervals) are kept as they are." : "";
  return <p class="hint">Credentials are never shown again: leave both keys empty to keep the stored ones.{kept}</p>;
}

export function StorageForm({ session, capabilities, editing, onSaved }: { session: ConsoleSession; capabilities: ConfigCapabilities; editing?: MirroredResource; onSaved: () => void }) {
  const [values, setValues] = useState<FormValues>(editing ? storageValues(editing) : {});
  const [meta, setMeta] = useState<Metadata>({ namespace: editing?.namespace ?? capabilities.namespaces[0] ?? "", name: editing?.name ?? "", secretName: "" });
  // An existing storage is edited from its stored spec, so Save sends back everything the form does not show.
  const base = editing?.spec ?? undefined;
  const secretName = meta.secretName || storageSecretNameOf(base) || `${meta.name || "storage"}-credentials`;
  const built = buildStorageSpec(values, secretName, base);
  const validation = validateStorage(built.spec);
  const metaErrors = { namespace: nameProblem(meta.namespace, "namespace"), name: nameProblem(meta.name, "name") };
  const { checked, attempt, test, save } = useFormActions({
    kind: "RecordingStorage", meta, built, capabilities, focusFirstError,
    valid: validity(validation, metaErrors),
    runTest: () => api.testRecordingStorage(built.spec, built.secrets),
    persist: async () => {
      // The generation the spec was read at: a resource changed since is refused rather than overwritten.
      const r = await api.saveRecordingStorage(meta.namespace, meta.name, built.spec, built.secrets, base ? editing?.generation : undefined);
      onSaved();
      return { saved: `${r.created ? "Created" : "Updated"} ${r.namespace}/${r.name}.` };
    },
    saveFailedTitle: "The storage could not be saved",
  });
  const shown = checked ? validation : { fields: {}, general: [] };

  const busy = Boolean(attempt.testing || attempt.saving);
  return (
    <form class="config-form" onSubmit={save} noValidate aria-labelledby="storage-form-title">
      <h2 id="storage-form-title">{editing ? `Edit ${editing.namespace}/${editing.name}` : "Add a storage"}</h2>
      <MetadataFields meta={meta} onChange={setMeta} errors={checked ? metaErrors : {}} namespaces={capabilities.namespaces} locked={Boolean(editing)} secretName={secretName} secretError={shown.fields._secretName} editing={Boolean(editing)} />
      <fieldset class="card">
        <legend>Bucket</legend>
        {storageFields.map((f) => (
          <FormField key={f.id} field={f} values={values} error={shown.fields[f.id]} onChange={(id, v) => setValues((s) => ({ ...s, [id]: v }))} disabled={busy} />
        ))}
        {editing && <EditHint editing={editing} />}
      </fieldset>
      <GeneralProblems problems={shown.general} />
      <FormFooter
        attempt={attempt}
        testLabel="Test Connection"
        onTest={can(session, "config:test") ? test : undefined}
        saveLabel={can(session, "config:write") ? (capabilities.save === "kubernetes" ? "Save" : "Save as manifest") : undefined}
        fileName={`${meta.name}.yaml`}
      />
    </form>
  );
}
