/**
 * Integrity: the latest signed checkpoint, a "Verify now" that walks the stored chain on the server, the files the
 * offline verifier needs, and what each check means in plain words.
 */
import { useState } from "preact/hooks";
import { allCheckpoints, api, type ApiError } from "../../api/client.ts";
import { useResource } from "../../api/cache.ts";
import type { ConsoleSession, VerifyResult } from "../../api/types.ts";
import { ProblemMessage } from "../../components/Problem.tsx";
import { Timestamp } from "../../components/Timestamp.tsx";
import { visibleText } from "../../components/text.ts";
import { downloadText } from "../../components/download.ts";

const reasons: Record<string, string> = {
  gap: "an event is missing: its sequence number is absent (a row was deleted)",
  hash_mismatch: "the event's content no longer hashes to its stored hash (it was edited after it was written)",
  broken_link: "the event's prevHash differs from the previous event's hash (events were removed, swapped or reordered)",
  checkpoint_mismatch: "a signed checkpoint says this event had another hash (the chain was rewritten and rehashed)",
  truncated: "a signed checkpoint covers events that are no longer there (the newest events were deleted)",
  head_mismatch: "the stored chain head disagrees with the last event",
  checkpoint_signature_invalid: "a stored checkpoint's signature does not verify with the server's public key",
  retention_boundary_invalid: "older events were removed without a retention prune recorded in the chain and sealed by a signed checkpoint",
};

export function IntegrityPage({ session }: { session: ConsoleSession }) {
  const allowed = session.scopes.includes("integrity:read");
  const latest = useResource(allowed ? "checkpoint:latest" : null, api.latestCheckpoint);
  const [verify, setVerify] = useState<{ running: boolean; result?: VerifyResult; error?: ApiError }>({ running: false });
  const [downloadError, setDownloadError] = useState<ApiError | undefined>();

  const runVerify = async () => {
    setVerify({ running: true });
    try {
      setVerify({ running: false, result: await api.verify() });
    } catch (e) {
      setVerify({ running: false, error: e as ApiError });
    }
  };
  const downloadCheckpoints = async () => {
    setDownloadError(undefined);
    try {
      downloadText(`trailkeeper-${session.tenant}-checkpoints.json`, JSON.stringify(await allCheckpoints(), null, 2), "application/json");
    } catch (e) {
      setDownloadError(e as ApiError);
    }
  };

  return (
    <section class="page integrity" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title">Integrity</h1>
      </header>
      {!allowed && <p class="notice">This session does not hold the integrity:read scope, so the chain cannot be checked here.</p>}
      {allowed && (
        <>
          <section class="card" aria-labelledby="latest-title">
            <h2 id="latest-title">Latest signed checkpoint</h2>
            <LatestCheckpoint loading={latest.loading} {...(latest.data ? { data: latest.data } : {})} {...(latest.error ? { error: latest.error } : {})} />
          </section>
          <section class="card" aria-labelledby="verify-title">
            <h2 id="verify-title">Verify the chain</h2>
            <p>Recomputes every event's hash on the server, follows every link and compares the result with every signed checkpoint.</p>
            <button type="button" onClick={runVerify} disabled={verify.running}>
              {verify.running ? "Verifying…" : "Verify now"}
            </button>
            <div role="status" class="verify-status">
              {verify.running && <p class="loading">Verifying the whole chain…</p>}
              {verify.result && <VerifyOutcome result={verify.result} />}
            </div>
            {verify.error && <ProblemMessage error={verify.error} title="Verification could not run" />}
          </section>
          <section class="card" aria-labelledby="offline-title">
            <h2 id="offline-title">Verify offline</h2>
            <p>
              Keep these files somewhere the database administrator cannot write, and check an export with them on your own machine (see docs/integrity.md):
            </p>
            <pre class="command" tabIndex={0} aria-label="Offline verification command">{`trailkeeper verify export.jsonl --checkpoint checkpoints.json --public-key public-key.json`}</pre>
            <div class="actions">
              <a class="button secondary" href="/v1/integrity/public-key" download="public-key.json">
                Download public key
              </a>
              <button type="button" class="secondary" onClick={downloadCheckpoints}>
                Download checkpoints
              </button>
            </div>
            {downloadError && <ProblemMessage error={downloadError} title="The checkpoints could not be downloaded" />}
          </section>
          <Explanation />
        </>
      )}
    </section>
  );
}

function LatestCheckpoint({ data, error, loading }: { data?: { tenant: string; seq: number; hash: string; time: string; note: string }; error?: ApiError; loading: boolean }) {
  if (loading && !data) return <p class="loading">Loading…</p>;
  if (error?.code === "no_checkpoint") return <p class="muted">No checkpoint has been signed for this tenant yet. The server signs one after 1,000 new events or 60 seconds.</p>;
  if (error) return <ProblemMessage error={error} />;
  if (!data) return null;
  const origin = data.note.split("\n")[0] ?? "";
  return (
    <dl class="fields">
      <div>
        <dt>Origin</dt>
        <dd class="mono">{visibleText(origin)}</dd>
      </div>
      <div>
        <dt>Size (events)</dt>
        <dd>{data.seq.toLocaleString("en")}</dd>
      </div>
      <div>
        <dt>Head hash</dt>
        <dd class="mono">{data.hash}</dd>
      </div>
      <div>
        <dt>Signed at</dt>
        <dd>
          <Timestamp iso={data.time} />
        </dd>
      </div>
    </dl>
  );
}

function VerifyOutcome({ result }: { result: VerifyResult }) {
  if (result.ok) {
    return (
      <p class="verdict ok">
        <strong>Chain intact.</strong> {result.checked.toLocaleString("en")} events checked up to seq {result.headSeq}; head hash <span class="mono">{result.headHash}</span>.
        {result.prunedThrough !== undefined && <Pruned through={result.prunedThrough} />}
      </p>
    );
  }
  const f = result.failure;
  return (
    <div class="verdict bad">
      <p>
        <strong>Tampering detected</strong>
        {f ? ` at seq ${f.seq}: ${f.reason}.` : "."}
      </p>
      {f && <p>{reasons[f.reason] ?? "the chain does not verify"}</p>}
      <p class="muted">{result.checked.toLocaleString("en")} events were checked before the failure was found.</p>
    </div>
  );
}

function Pruned({ through }: { through: number }) {
  return (
    <>
      {" "}
      Events 1–{through.toLocaleString("en")} were removed by this tenant's retention period; the check starts at the signed checkpoint of seq {through.toLocaleString("en")}, which sealed them.
    </>
  );
}

function Explanation() {
  return (
    <section class="card" aria-labelledby="explain-title">
      <h2 id="explain-title">What is checked</h2>
      <ul class="explain">
        <li>Every event is stored with a SHA-256 hash of its content, which includes the hash of the event before it. Editing any stored event changes its hash.</li>
        <li>Following the links from the first event to the newest shows that none was removed, inserted or reordered.</li>
        <li>Signed checkpoints record the chain's head at a moment in time, signed with the server's Ed25519 key. They catch a rewritten and rehashed chain and a deleted tail, as long as copies are kept elsewhere.</li>
        <li>With a retention period, the oldest events are removed in whole months. Before anything is removed, a signed checkpoint seals the last removed event's hash and an audit.retention.prune event records it in the chain, so the check starts from that checkpoint.</li>
        <li>The offline verifier repeats these checks on an export, without trusting this server.</li>
      </ul>
    </section>
  );
}
