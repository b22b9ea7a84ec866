/** Save without Kubernetes access: the YAML to commit (made here, sent nowhere), a download, and the apply line. */
import { useState } from "preact/hooks";
import { downloadText } from "./download.ts";

export function ManifestView({ yaml, fileName, hasSecret }: { yaml: string; fileName: string; hasSecret: boolean }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(yaml).then(() => setCopied(true), () => setCopied(false));
  };
  return (
    <section class="card manifest" aria-labelledby="manifest-title">
      <h2 id="manifest-title">Commit this manifest</h2>
      <p>
        This server does not write to Kubernetes. Commit the YAML below to your configuration repository, or apply it with <code>kubectl</code>:
      </p>
      <pre class="command" tabIndex={0} aria-label="Apply command">{`kubectl apply -f ${fileName}`}</pre>
      {hasSecret && (
        <p class="notice">
          The Secret holds the credentials you typed, in plain text. Do not commit it as is: seal or encrypt it with your secret tool (Sealed Secrets, SOPS, External Secrets), or
          create it directly in the cluster.
        </p>
      )}
      <pre class="json" tabIndex={0} aria-label="Manifest YAML">
        {yaml}
      </pre>
      <div class="actions">
        <button type="button" class="secondary" onClick={() => downloadText(fileName, yaml, "application/yaml")}>
          Download {fileName}
        </button>
        <button type="button" class="secondary" onClick={copy}>
          Copy YAML
        </button>
        <span class="copied" role="status">
          {copied ? "Copied" : ""}
        </span>
      </div>
    </section>
  );
}
