/**
 * The New/Edit destination form as data: the fields each destination type shows, how their values become a
 * LogForwardingDestination spec plus inline secrets, and how the CRD's own zod schema judges the result.
 * Pure: tested beside it (form-model.test.ts).
 */
import { logForwardingDestinationSpecSchema } from "../../../../core/src/crd/log-forwarding-destination.ts";
import { destinationKinds, type DestinationKind } from "../../../../core/src/crd/destination-blocks.ts";
import { formatsByKind } from "../../../../core/src/formats/formats.ts";
import type { InlineSecrets, MirroredResource } from "../../api/types.ts";
import { descriptionAt, enumOptionsAt } from "./schema-fields.ts";

export { destinationKinds, type DestinationKind };

export type FormValues = Record<string, string | boolean>;
export type FieldKind = "text" | "number" | "checkbox" | "select" | "secret" | "list";

export interface FieldSpec {
  /** The spec path the field fills (relative to spec), or a form-only name starting with `_`. */
  id: string;
  label: string;
  kind: FieldKind;
  options?: readonly string[];
  placeholder?: string;
  hint?: string;
  /** For secrets: the key inside the Secret the value is stored under. */
  secretKey?: string;
  when?: (v: FormValues) => boolean;
  /** The spec path removed while `when` hides the field (default: the field's own), e.g. the whole syslog tls block. */
  clears?: string;
}

export const typeLabels: Record<DestinationKind, string> = {
  webhook: "Webhook",
  splunkHec: "Splunk HEC",
  datadog: "Datadog",
  elasticsearch: "Elasticsearch",
  syslog: "Syslog",
};

const spec = logForwardingDestinationSpecSchema;
const describe = (id: string) => descriptionAt(spec, id);

function field(id: string, label: string, kind: FieldKind, more: Partial<FieldSpec> = {}): FieldSpec {
  const hint = describe(id);
  return { id, label, kind, ...(hint ? { hint } : {}), ...more };
}

const tlsField = (kind: string) => field(`${kind}.tls.insecureSkipVerify`, "Skip TLS certificate verification", "checkbox");
const syslogTlsOnly = (v: FormValues) => v["syslog.transport"] === "tls" || v["syslog.transport"] === "relp-tls" || v["syslog.transport"] === "";
const esAuth = (mode: string) => (v: FormValues) => (v._auth || "apiKey") === mode;

/** The fields of each destination block, in the order a person fills them. */
export const blockFields: Record<DestinationKind, FieldSpec[]> = {
  webhook: [
    field("webhook.url", "URL", "text", { placeholder: "https://siem.example.com/audit" }),
    field("webhook.signingSecretRef", "Signing secret", "secret", { secretKey: "signingSecret", placeholder: "whsec_…" }),
    field("webhook.allowInsecureHttp", "Allow plain http://", "checkbox"),
    tlsField("webhook"),
  ],
  splunkHec: [
    field("splunkHec.url", "URL", "text", { placeholder: "https://splunk.example.com:8088" }),
    field("splunkHec.tokenSecretRef", "HEC token", "secret", { secretKey: "token" }),
    field("splunkHec.index", "Index", "text"),
    field("splunkHec.source", "Source", "text"),
    field("splunkHec.sourcetype", "Sourcetype", "text", { placeholder: "trailkeeper:audit" }),
    field("splunkHec.host", "Host field", "text"),
    field("splunkHec.indexerAcknowledgement", "Wait for indexer acknowledgement", "checkbox"),
    field("splunkHec.allowInsecureHttp", "Allow plain http://", "checkbox"),
    tlsField("splunkHec"),
  ],
  datadog: [
    field("datadog.site", "Site", "select", { options: enumOptionsAt(spec, "datadog.site") }),
    field("datadog.apiKeySecretRef", "API key", "secret", { secretKey: "apiKey" }),
    field("datadog.endpoint", "Endpoint (optional)", "text", { placeholder: "https://proxy.example.com" }),
    field("datadog.service", "Service", "text", { placeholder: "trailkeeper" }),
    field("datadog.source", "Source", "text", { placeholder: "trailkeeper" }),
    field("datadog.tags", "Tags", "list", { placeholder: "env:prod team:security" }),
    field("datadog.allowInsecureHttp", "Allow plain http://", "checkbox"),
  ],
  elasticsearch: [
    field("elasticsearch.url", "URL", "text", { placeholder: "https://es.example.com:9200" }),
    field("elasticsearch.index", "Index", "text"),
    field("elasticsearch.dataStream", "Data stream", "text", { placeholder: "logs-trailkeeper.audit-default" }),
    { id: "_auth", label: "Authentication", kind: "select", options: ["apiKey", "basic"] },
    field("elasticsearch.apiKeySecretRef", "API key (encoded)", "secret", { secretKey: "apiKey", when: esAuth("apiKey") }),
    field("elasticsearch.basicAuth.username", "User name", "text", { when: esAuth("basic"), clears: "elasticsearch.basicAuth" }),
    field("elasticsearch.basicAuth.passwordSecretRef", "Password", "secret", { secretKey: "password", when: esAuth("basic"), clears: "elasticsearch.basicAuth" }),
    field("elasticsearch.allowInsecureHttp", "Allow plain http://", "checkbox"),
    tlsField("elasticsearch"),
  ],
  syslog: [
    field("syslog.host", "Host", "text", { placeholder: "syslog.example.com" }),
    field("syslog.transport", "Transport", "select", { options: enumOptionsAt(spec, "syslog.transport") }),
    field("syslog.port", "Port", "number"),
    field("syslog.facility", "Facility", "number", { placeholder: "13" }),
    field("syslog.appName", "APP-NAME", "text", { placeholder: "trailkeeper" }),
    field("syslog.tls.insecureSkipVerify", "Skip TLS certificate verification", "checkbox", { when: syslogTlsOnly, clears: "syslog.tls" }),
  ],
};

/** Settings every type shares. */
export function commonFields(kind: DestinationKind): FieldSpec[] {
  return [
    field("enabled", "Enabled", "checkbox"),
    field("format", "Format", "select", { options: ["", ...formatsByKind[kind]] }),
    field("checkInterval", "Check interval", "text", { placeholder: "5m" }),
    field("timeout", "Timeout", "text", { placeholder: "10s" }),
  ];
}

export function visibleFields(kind: DestinationKind, values: FormValues): FieldSpec[] {
  return [...blockFields[kind], ...commonFields(kind)].filter((f) => !f.when || f.when(values));
}

type Fields = Record<string, unknown>;
const isFields = (v: unknown): v is Fields => v !== null && typeof v === "object" && !Array.isArray(v);

function getPath(target: unknown, path: string): unknown {
  let node = target;
  for (const p of path.split(".")) node = isFields(node) ? node[p] : undefined;
  return node;
}

function setPath(target: Fields, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const p of parts.slice(0, -1)) {
    if (!isFields(node[p])) node[p] = {};
    node = node[p] as Fields;
  }
  node[parts.at(-1)!] = value;
}

/** Removes the value at `path`, and the objects below the top level that this leaves empty. */
function deletePath(target: Fields, path: string): void {
  const parts = path.split(".");
  const chain: Fields[] = [target];
  for (const p of parts.slice(0, -1)) {
    const next = chain.at(-1)![p];
    if (!isFields(next)) return;
    chain.push(next);
  }
  if (!(parts.at(-1)! in chain.at(-1)!)) return;
  delete chain.at(-1)![parts.at(-1)!];
  for (let i = chain.length - 1; i >= 2 && Object.keys(chain[i]!).length === 0; i--) delete chain[i - 1]![parts[i - 1]!];
}

/** A field's value as the spec holds it, or undefined when left empty (the CRD's default applies). */
function specValue(f: FieldSpec, raw: string | boolean | undefined): unknown {
  if (f.kind === "checkbox") return f.id === "enabled" ? raw !== false : raw === true ? true : undefined;
  const text = typeof raw === "string" ? raw.trim() : "";
  if (text === "") return undefined;
  if (f.kind === "number") return /^-?\d+$/.test(text) ? Number(text) : text;
  if (f.kind === "list") return text.split(/[\s,]+/).filter((t) => t !== "");
  return text;
}

/** Whether two form values mean the same spec value (" 13" and "13", "a b" and "a  b"). */
const sameValue = (f: FieldSpec, a: string | boolean | undefined, b: string | boolean | undefined) => JSON.stringify(specValue(f, a)) === JSON.stringify(specValue(f, b));

/** A `{name, key}` Secret reference at `path`, if the spec holds one there. */
function refAt(spec: unknown, path: string): { name: string; key: string } | undefined {
  const ref = getPath(spec, path);
  return isFields(ref) && typeof ref.name === "string" && typeof ref.key === "string" ? { name: ref.name, key: ref.key } : undefined;
}

export interface BuiltSpec {
  spec: Record<string, unknown>;
  secrets: InlineSecrets;
}

const allFields = (kind: DestinationKind) => [...blockFields[kind], ...commonFields(kind)].filter((f) => !f.id.startsWith("_"));

/**
 * Writes a secret field into `out`: a reference the spec already has is kept, with its Secret and key, unless a new
 * value is typed for another Secret name; a new one points at `secretName`. A typed value goes to the reference.
 */
function applySecret(f: FieldSpec, values: FormValues, secretName: string, base: Fields | undefined, out: Fields, secrets: InlineSecrets): void {
  const existing = refAt(base, f.id);
  const typed = typeof values[f.id] === "string" && values[f.id] !== "" ? (values[f.id] as string) : undefined;
  const ref = existing && (typed === undefined || existing.name === secretName) ? existing : { name: secretName, key: existing?.key ?? f.secretKey! };
  if (ref !== existing) setPath(out, f.id, ref);
  if (typed !== undefined) (secrets[ref.name] ??= {})[ref.key] = typed;
}

/**
 * The spec the form describes and the secrets typed into it. A new destination (no `base`) gets only what was
 * filled in (the CRD's defaults fill the rest). An existing one starts from its stored spec, `base`, and only the
 * fields whose value differs from what the form showed for it are written, so everything else, including what the
 * form does not show (TLS references, filter, delivery tuning, fields it does not know), is sent back unchanged.
 * A secret left empty is not sent: saving keeps the stored value.
 */
export function buildSpec(kind: DestinationKind, values: FormValues, secretName: string, base?: Record<string, unknown>): BuiltSpec {
  const out: Fields = base ? structuredClone(base) : {};
  if (!isFields(out[kind])) out[kind] = {};
  const before: FormValues = base ? valuesFromSpec(kind, base) : {};
  const secrets: InlineSecrets = {};
  for (const f of allFields(kind)) {
    if (f.when && !f.when(values)) deletePath(out, f.clears ?? f.id);
    else if (f.kind === "secret") applySecret(f, values, secretName, base, out, secrets);
    else if (!base || !sameValue(f, values[f.id], before[f.id])) {
      const v = specValue(f, values[f.id]);
      if (v === undefined) deletePath(out, f.id);
      else setPath(out, f.id, v);
    }
  }
  return { spec: out, secrets };
}

export interface Validation {
  /** Message per field id (a secret reference's name problems go to `_secretName`). */
  fields: Record<string, string>;
  /** Problems that belong to no single field. */
  general: string[];
}

/** The field an issue at `path` belongs to: the longest field id it starts with. */
function fieldOf(path: string, ids: readonly string[]): string | undefined {
  if (/SecretRef\.name$/.test(path)) return "_secretName";
  return ids.filter((id) => path === id || path.startsWith(`${id}.`)).sort((a, b) => b.length - a.length)[0];
}

/** Judges a built spec with the CRD's schema and files each problem under its field. */
export function validateSpec(kind: DestinationKind, values: FormValues, built: BuiltSpec): Validation {
  const result = logForwardingDestinationSpecSchema.safeParse(built.spec);
  const ids = visibleFields(kind, values).map((f) => f.id);
  const out: Validation = { fields: {}, general: [] };
  if (result.success) return out;
  for (const issue of result.error.issues) {
    const path = issue.path.join(".");
    const id = fieldOf(path, ids);
    if (id) out.fields[id] ??= issue.message;
    else out.general.push(path ? `${path}: ${issue.message}` : issue.message);
  }
  return out;
}

/** Kubernetes object names: DNS-1123 labels for namespaces, subdomains for resources (what the API server takes). */
export function nameProblem(value: string, what: "namespace" | "name"): string | undefined {
  if (value === "") return `a ${what} is required`;
  const max = what === "namespace" ? 63 : 253;
  const re = what === "namespace" ? /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ : /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  return value.length <= max && re.test(value) ? undefined : `must be lowercase letters, digits and '-'${what === "name" ? " or '.'" : ""}, starting and ending with a letter or digit`;
}

export const defaultSecretName = (name: string) => `${name || "destination"}-credentials`;

/** The Secret the form's secret fields already reference (the first one found), for the Secret name field. */
export function secretNameOf(kind: DestinationKind, spec: unknown): string | undefined {
  return blockFields[kind].filter((f) => f.kind === "secret").map((f) => refAt(spec, f.id)?.name).find((n) => n !== undefined);
}

/** The value a field shows for what `spec` holds at its path (secrets always empty: the spec has only references). */
function formValueOf(f: FieldSpec, spec: Fields, fallback: string | boolean | undefined): string | boolean {
  const v = getPath(spec, f.id);
  if (f.kind === "checkbox") return f.id === "enabled" ? v !== false : v === true;
  if (f.kind === "secret") return "";
  if (f.kind === "list") return Array.isArray(v) ? v.join(" ") : "";
  if (typeof v === "string" || typeof v === "number") return String(v);
  return f.kind === "select" ? (fallback ?? "") : "";
}

/** The kind of destination a spec describes: its one destination block. */
export function kindOfSpec(spec: unknown): DestinationKind | undefined {
  const set = destinationKinds.filter((k) => isFields(spec) && spec[k] !== undefined);
  return set.length === 1 ? set[0] : undefined;
}

/** What each field of the form shows for a stored spec (a select the spec leaves out shows the CRD's default). */
export function valuesFromSpec(kind: DestinationKind, spec: Record<string, unknown>): FormValues {
  const defaults = initialValues(kind);
  const values: FormValues = { ...defaults };
  for (const f of allFields(kind)) values[f.id] = formValueOf(f, spec, defaults[f.id]);
  if (kind === "elasticsearch") values._auth = getPath(spec, "elasticsearch.basicAuth") !== undefined ? "basic" : "apiKey";
  return values;
}

/**
 * An existing destination as form values: from its spec when the mirror has it; from the mirror's display fields
 * otherwise (rows mirrored before the spec was, until the operator writes them again).
 */
export function valuesFromMirror(m: MirroredResource): { kind: DestinationKind; values: FormValues } {
  const fromSpec = m.spec ? kindOfSpec(m.spec) : undefined;
  if (m.spec && fromSpec) return { kind: fromSpec, values: valuesFromSpec(fromSpec, m.spec) };
  const kind = (destinationKinds as readonly string[]).includes(m.type ?? "") ? (m.type as DestinationKind) : "webhook";
  const values: FormValues = { enabled: m.enabled, format: m.format ?? "" };
  if (kind === "syslog") {
    const match = /^([a-z-]+):\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(m.endpoint ?? "");
    if (match) Object.assign(values, { "syslog.transport": match[1]!, "syslog.host": match[2]!, "syslog.port": match[3]! });
  } else if (kind === "datadog") {
    values["datadog.site"] = String(m.details.site ?? "datadoghq.com");
    if (m.endpoint) values["datadog.endpoint"] = m.endpoint;
  } else if (m.endpoint) {
    values[`${kind}.url`] = m.endpoint;
    if (m.endpoint.startsWith("http://")) values[`${kind}.allowInsecureHttp`] = true;
  }
  return { kind, values };
}

/** Fresh values for a new destination of `kind`: the schema's defaults for selects. */
export function initialValues(kind: DestinationKind): FormValues {
  const values: FormValues = { enabled: true, format: "" };
  for (const f of blockFields[kind]) if (f.kind === "select" && f.options?.length) values[f.id] = f.id === "syslog.transport" ? "tls" : f.options[0]!;
  return values;
}
