/** Test and Save of a configuration form (destinations and storages share them): check, then act, then report. */
import { useState } from "preact/hooks";
import type { ApiError } from "../api/client.ts";
import type { ConfigCapabilities, ConnectionTestResult, InlineSecrets } from "../api/types.ts";
import type { Attempt } from "./FormFooter.tsx";
import { manifestYaml } from "./manifest.ts";

export interface FormActionsOptions {
  kind: "LogForwardingDestination" | "RecordingStorage";
  meta: { namespace: string; name: string };
  built: { spec: unknown; secrets: InlineSecrets };
  /** Whether the fields are valid, and the namespace and name too (Test needs only the fields). */
  valid: { fields: boolean; meta: boolean };
  capabilities: ConfigCapabilities;
  /** Moves focus to the first field in error, after the errors have rendered. */
  focusFirstError: () => void;
  runTest: () => Promise<ConnectionTestResult>;
  /** Saves through the API; what it returns is shown (e.g. "Updated …"), or nothing when it navigates away. */
  persist: () => Promise<Attempt | void>;
  saveFailedTitle: string;
}

/** The `valid` of FormActionsOptions from a form's validation and its namespace and name problems. */
export function validity(validation: { fields: object; general: readonly unknown[] }, metaErrors: { namespace?: string | undefined; name?: string | undefined }): FormActionsOptions["valid"] {
  return { fields: Object.keys(validation.fields).length === 0 && validation.general.length === 0, meta: !metaErrors.namespace && !metaErrors.name };
}

export function useFormActions(o: FormActionsOptions) {
  const [checked, setChecked] = useState(false);
  const [attempt, setAttempt] = useState<Attempt>({});
  /** Shows every problem and moves focus to the first; true when the form may go on. */
  const check = (withMeta: boolean): boolean => {
    setChecked(true);
    const ok = o.valid.fields && (!withMeta || o.valid.meta);
    if (!ok) queueMicrotask(o.focusFirstError);
    return ok;
  };
  const test = async () => {
    if (!check(false)) return;
    setAttempt({ testing: true });
    try {
      setAttempt({ test: await o.runTest() });
    } catch (e) {
      setAttempt({ error: { error: e as ApiError, title: "The test could not run" } });
    }
  };
  const save = async (e: Event) => {
    e.preventDefault();
    if (!check(true)) return;
    if (o.capabilities.save === "manifest") {
      const { spec, secrets } = o.built;
      return setAttempt({ manifest: { yaml: manifestYaml(o.kind, o.meta.namespace, o.meta.name, spec, secrets), hasSecret: Object.keys(secrets).length > 0 } });
    }
    setAttempt({ saving: true });
    try {
      const shown = await o.persist();
      if (shown) setAttempt(shown);
    } catch (err) {
      setAttempt({ error: { error: err as ApiError, title: o.saveFailedTitle } });
    }
  };
  return { checked, attempt, setAttempt, test, save };
}
