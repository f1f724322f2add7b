// One run: its state and timings, what it loaded and what failed (and why), its logs.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { call } from "../api/client";
import type { LogLine, Page, Run, RunAccepted } from "../api/types";
import { Empty, ErrorBox, Loading, RunState } from "../parts/common";
import { useSession } from "../session";
import { bytes, count, duration, timestamp } from "../words";

const FINAL = ["COMPLETED", "FAILED", "CRASHED", "CANCELLED"];
const LOG_PAGE = 200;
const LEVELS: Record<number, string> = { 10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL" };

export function RunDetail() {
  const { id = "" } = useParams();
  const { canWrite } = useSession();
  const queries = useQueryClient();
  const run = useQuery({
    queryKey: ["run", id],
    queryFn: () => call<Run>(`/api/v1/runs/${id}`),
    refetchInterval: (q) => (q.state.data && FINAL.includes(q.state.data.state) ? false : 2_000),
  });
  const retry = useMutation({
    mutationFn: () => call<RunAccepted>(`/api/v1/runs/${id}/retry`, { method: "POST" }),
  });
  const cancel = useMutation({
    mutationFn: () => call<Run>(`/api/v1/runs/${id}/cancel`, { method: "POST" }),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["run", id] }),
  });
  if (run.isPending) return <Loading what="the run" />;
  if (run.error) return <ErrorBox error={run.error} />;
  const r = run.data;
  const final = FINAL.includes(r.state);
  const failures = r.failures ?? [];
  return (
    <section>
      <p>
        <Link to={`/ingestions/${r.ingestion_id}`}>← the ingestion</Link>
      </p>
      <div className="title-row">
        <h1>
          Run {r.name} <span data-testid="run-state"><RunState state={r.state} name={r.state_name} /></span>
        </h1>
        <div className="buttons">
          {r.prefect_url ? (
            <a className="button" href={r.prefect_url} target="_blank" rel="noreferrer">
              Open in Prefect
            </a>
          ) : null}
          {canWrite && final && r.state !== "COMPLETED" ? (
            <button type="button" onClick={() => retry.mutate()} disabled={retry.isPending}>
              Retry
            </button>
          ) : null}
          {canWrite && !final ? (
            <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
              Cancel
            </button>
          ) : null}
        </div>
      </div>
      <ErrorBox error={retry.error ?? cancel.error} />
      {retry.data ? (
        <p className="notice" role="status">
          Retry started: <Link to={`/runs/${retry.data.run_id}`}>follow it</Link>.
        </p>
      ) : null}
      {r.message ? <p className="muted">{r.message}</p> : null}
      <div className="cards">
        <div className="card">
          <h2>Timing</h2>
          <dl>
            <dt>Trigger</dt>
            <dd>{r.trigger ?? "–"}</dd>
            <dt>Due</dt>
            <dd>{timestamp(r.expected_start_time)}</dd>
            <dt>Started</dt>
            <dd>{timestamp(r.start_time)}</dd>
            <dt>Ended</dt>
            <dd>{timestamp(r.end_time)}</dd>
            <dt>Duration</dt>
            <dd>{duration(r.duration_seconds)}</dd>
          </dl>
        </div>
        <div className="card">
          <h2>Loaded</h2>
          <dl data-testid="run-counts">
            <dt>Files</dt>
            <dd data-testid="files-loaded">{count(r.files_loaded)}</dd>
            <dt>Rows</dt>
            <dd data-testid="rows-loaded">{count(r.rows)}</dd>
            <dt>Bytes</dt>
            <dd>{bytes(r.bytes)}</dd>
            <dt>Files failed</dt>
            <dd className={r.files_failed ? "bad-text" : undefined} data-testid="files-failed">
              {count(r.files_failed)}
            </dd>
          </dl>
        </div>
      </div>
      {failures.length > 0 ? (
        <div className="card wide">
          <h2>Failed files</h2>
          <table className="grid" data-testid="failures">
            <thead>
              <tr>
                <th>Path</th>
                <th>Category</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {failures.map((f) => (
                <tr key={f.path} className="failed">
                  <td className="path">{f.path}</td>
                  <td>{f.category ?? "–"}</td>
                  <td className="reason">{f.error}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Logs runId={r.id} following={!final} />
    </section>
  );
}

function Logs({ runId, following }: { runId: string; following: boolean }) {
  const [offset, setOffset] = useState(0);
  const logs = useQuery({
    // Read once more when the run ends, for the lines it wrote last.
    queryKey: ["logs", runId, offset, following],
    queryFn: () => call<Page<LogLine>>(`/api/v1/runs/${runId}/logs?limit=${LOG_PAGE}&offset=${offset}`),
    refetchInterval: following ? 3_000 : false,
  });
  const lines = logs.data?.items ?? [];
  return (
    <div className="card wide">
      <h2>Logs {following ? <span className="muted">(following)</span> : null}</h2>
      <ErrorBox error={logs.error} />
      {logs.isPending ? <Loading what="logs" /> : null}
      {logs.data && lines.length === 0 ? <Empty>No log lines{offset ? " on this page" : " yet"}.</Empty> : null}
      {lines.length > 0 ? (
        <pre className="logs" data-testid="logs">
          {lines
            .map((l) => `${timestamp(l.timestamp)}  ${(LEVELS[l.level] ?? l.level).toString().padEnd(8)} ${l.message}`)
            .join("\n")}
        </pre>
      ) : null}
      <div className="pager">
        <button type="button" onClick={() => setOffset(Math.max(0, offset - LOG_PAGE))} disabled={offset === 0}>
          Earlier
        </button>
        <button type="button" onClick={() => setOffset(offset + LOG_PAGE)} disabled={lines.length < LOG_PAGE}>
          Later
        </button>
      </div>
    </div>
  );
}
