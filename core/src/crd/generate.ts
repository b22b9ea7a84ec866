import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import type { z } from "zod";
import { crdGroup, crdVersion } from "./common.ts";
import {
  logForwardingDestinationNames,
  logForwardingDestinationSpecSchema,
  logForwardingDestinationStatusSchema,
} from "./log-forwarding-destination.ts";
import { recordingStorageNames, recordingStorageSpecSchema, recordingStorageStatusSchema } from "./recording-storage.ts";
import { toStructuralSchema, type OpenApiSchema } from "./openapi.ts";

interface PrinterColumn {
  name: string;
  type: "string" | "boolean" | "integer" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface CrdSource {
  file: string;
  names: { kind: string; listKind: string; plural: string; singular: string; shortNames: readonly string[] };
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: PrinterColumn[];
}

const ready = '.status.conditions[?(@.type=="Ready")]';
const readyColumns: PrinterColumn[] = [
  { name: "Ready", type: "string", jsonPath: `${ready}.status`, description: "Ready condition status." },
  { name: "Reason", type: "string", jsonPath: `${ready}.reason`, priority: 1 },
  { name: "Message", type: "string", jsonPath: `${ready}.message`, description: "Ready condition message." },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

const delivering = '.status.conditions[?(@.type=="Delivering")]';
/** kubectl get lfd: the delivery statistics beside readiness; -o wide adds why (Ready's, then Delivering's reason). */
const destinationColumns: PrinterColumn[] = [
  { name: "Type", type: "string", jsonPath: ".status.type", description: "Destination type." },
  { name: "Format", type: "string", jsonPath: ".status.format", description: "Event format in use." },
  { name: "Enabled", type: "boolean", jsonPath: ".spec.enabled" },
  { name: "Ready", type: "string", jsonPath: `${ready}.status`, description: "Ready condition status (connectivity check)." },
  { name: "Delivered", type: "integer", jsonPath: ".status.delivery.delivered" },
  { name: "Failed", type: "integer", jsonPath: ".status.delivery.failed", description: "Failed delivery attempts." },
  { name: "Dead-Lettered", type: "integer", jsonPath: ".status.delivery.deadLettered" },
  { name: "Lag", type: "integer", jsonPath: ".status.delivery.lagEvents", description: "Events not yet delivered." },
  { name: "Last Delivery", type: "date", jsonPath: ".status.delivery.lastDeliveredAt" },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  { name: "Reason", type: "string", jsonPath: `${ready}.reason`, priority: 1 },
  { name: "Message", type: "string", jsonPath: `${ready}.message`, priority: 1 },
  { name: "Delivering", type: "string", jsonPath: `${delivering}.status`, priority: 1, description: "Delivery health condition status." },
  { name: "Delivery Reason", type: "string", jsonPath: `${delivering}.reason`, priority: 1 },
  { name: "Last Error", type: "string", jsonPath: ".status.delivery.lastError", priority: 1 },
];

export const crdSources: readonly CrdSource[] = [
  {
    file: `${logForwardingDestinationNames.plural}.${crdGroup}.yaml`,
    names: logForwardingDestinationNames,
    description: "Forwards the namespace tenant's audit events to one SIEM or log destination, tested continuously.",
    spec: logForwardingDestinationSpecSchema,
    status: logForwardingDestinationStatusSchema,
    columns: destinationColumns,
  },
  {
    file: `${recordingStorageNames.plural}.${crdGroup}.yaml`,
    names: recordingStorageNames,
    description: "S3 or S3-compatible bucket for the namespace tenant's session recordings, tested continuously.",
    spec: recordingStorageSpecSchema,
    status: recordingStorageStatusSchema,
    columns: [
      { name: "Bucket", type: "string", jsonPath: ".spec.bucket" },
      { name: "Endpoint", type: "string", jsonPath: ".spec.endpoint", priority: 1 },
      ...readyColumns,
    ],
  },
];

export function crdObject(source: CrdSource): Record<string, unknown> {
  const openAPIV3Schema: OpenApiSchema = {
    description: source.description,
    type: "object",
    required: ["spec"],
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      spec: toStructuralSchema(source.spec),
      status: toStructuralSchema(source.status),
    },
  };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${source.names.plural}.${crdGroup}`,
      labels: { "app.kubernetes.io/name": "trailkeeper", "app.kubernetes.io/part-of": "trailkeeper" },
    },
    spec: {
      group: crdGroup,
      names: { ...source.names, shortNames: [...source.names.shortNames], categories: ["trailkeeper"] },
      scope: "Namespaced",
      versions: [
        {
          name: crdVersion,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: source.columns,
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

const header = "# Generated by core/src/crd/generate.ts from the zod schemas in core/src/crd/. Do not edit by hand:\n# change the schema and run `node core/src/crd/generate.ts`.\n";

/** The YAML text of one CRD file, exactly as committed under crds/. */
export function renderCrd(source: CrdSource): string {
  return header + yaml.dump(crdObject(source), { lineWidth: -1, noRefs: true, quotingType: '"' });
}

export const crdsDirectory = join(dirname(fileURLToPath(import.meta.url)), "../../../crds");

export function renderAllCrds(): { file: string; text: string }[] {
  return crdSources.map((s) => ({ file: s.file, text: renderCrd(s) }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { file, text } of renderAllCrds()) {
    writeFileSync(join(crdsDirectory, file), text);
    console.log(`wrote crds/${file}`);
  }
}
