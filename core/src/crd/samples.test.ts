import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { crdApiVersion } from "./common.ts";
import { crdsDirectory } from "./generate.ts";
import { destinationKindOf, logForwardingDestinationSpecSchema } from "./log-forwarding-destination.ts";
import { recordingStorageSpecSchema } from "./recording-storage.ts";
import { secretRefsIn, secretRefsOfRecordingStorage } from "./secret-refs.ts";

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: unknown;
  stringData?: Record<string, string>;
}

const samplesDir = join(crdsDirectory, "samples");
const files = readdirSync(samplesDir).filter((f) => f.endsWith(".yaml"));
const docs = files.flatMap((file) => yaml.loadAll(readFileSync(join(samplesDir, file), "utf8")).map((d) => ({ file, doc: d as Doc })));
const secrets = new Map(docs.filter((d) => d.doc.kind === "Secret").map((d) => [d.doc.metadata.name, Object.keys(d.doc.stringData ?? {})]));
const resources = docs.filter((d) => d.doc.kind !== "Secret");

describe("crds/samples", () => {
  it("has one sample per destination type and one for RecordingStorage", () => {
    const kinds = resources.filter((d) => d.doc.kind === "LogForwardingDestination").map((d) => destinationKindOf(d.doc.spec as object));
    expect(new Set(kinds)).toEqual(new Set(["webhook", "splunkHec", "datadog", "elasticsearch", "syslog"]));
    expect(resources.some((d) => d.doc.kind === "RecordingStorage")).toBe(true);
  });

  it.each(resources.map((d) => [`${d.file} ${d.doc.metadata.name}`, d.doc] as const))("%s is valid and its Secrets exist in secrets.yaml", (_name, doc) => {
    expect(doc.apiVersion).toBe(crdApiVersion);
    const refs =
      doc.kind === "RecordingStorage"
        ? secretRefsOfRecordingStorage(recordingStorageSpecSchema.parse(doc.spec))
        : secretRefsIn(logForwardingDestinationSpecSchema.parse(doc.spec));
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(secrets.get(ref.name), `${ref.name}/${ref.key}`).toContain(ref.key);
  });
});
