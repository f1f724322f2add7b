// One ingestion: its spec and controls, its runs, its files and its schema versions.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { call, query } from "../api/client";
import {
  type Ingestion,
  type Page,
  RAN_STATES,
  type Refreshed,
  type Run,
  type RunAccepted,
  type SchemaVersion,
} from "../api/types";
import { Badge, Empty, ErrorBox, Loading, RunState } from "../parts/common";
import { useSession } from "../session";
import { bytes, count, duration, schedule, timestamp, when } from "../words";
import { FilesTable } from "./FilesTable";

export function IngestionDetail() {
  const { id = "" } = useParams();
  const ingestion = useQuery({
    queryKey: ["ingestion", id],
    queryFn: () => call<Ingestion>(`/api/v1/ingestions/${id}`),
    refetchInterval: 10_000,
  });
  if (ingestion.isPending) return <Loading what="the ingestion" />;
  if (ingestion.error) return <ErrorBox error={ingestion.error} />;
  return <Detail ingestion={ingestion.data} />;
}

function Detail({ ingestion }: { ingestion: Ingestion }) {
  const { canWrite } = useSession();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const path = `/api/v1/ingestions/${ingestion.id}`;
  const ifMatch = { "If-Match": `"${ingestion.version}"` };
  const refreshAll = () => {
    void queries.invalidateQueries({ queryKey: ["ingestion", ingestion.id] });
    void queries.invalidateQueries({ queryKey: ["runs", ingestion.id] });
    void queries.invalidateQueries({ queryKey: ["files", ingestion.id] });
  };
  const act = useMutation({
    mutationFn: (action: "pause" | "resume") =>
      call<Ingestion>(`${path}/${action}`, { method: "POST", headers: ifMatch }),
    onSuccess: (changed) => {
      queries.setQueryData(["ingestion", ingestion.id], changed);
      refreshAll();
    },
  });
  const runNow = useMutation({
    mutationFn: () => call<RunAccepted>(`${path}/run`, { method: "POST" }),
    onSuccess: refreshAll,
  });
  const [deleting, setDeleting] = useState(false);
  const remove = useMutation({
    mutationFn: () => call<void>(path, { method: "DELETE", headers: ifMatch }),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["ingestions"] });
      navigate("/");
    },
  });
  const { source, format, destination } = ingestion;
  const counts = ingestion.file_counts ?? {};

  return (
    <section>
      <div className="title-row">
        <h1>
          {ingestion.name} <Badge value={ingestion.status} />
        </h1>
        {canWrite ? (
          <div className="buttons" data-testid="ingestion-actions">
            <button type="button" className="primary" onClick={() => runNow.mutate()} disabled={runNow.isPending}>
              Run now
            </button>
            {ingestion.status === "paused" ? (
              <button type="button" onClick={() => act.mutate("resume")} disabled={act.isPending}>
                Resume
              </button>
            ) : (
              <button type="button" onClick={() => act.mutate("pause")} disabled={act.isPending}>
                Pause
              </button>
            )}
            <Link className="button" to={`/ingestions/${ingestion.id}/edit`}>
              Edit
            </Link>
            <button type="button" className="danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </div>
        ) : null}
      </div>
      <ErrorBox error={act.error ?? runNow.error ?? remove.error} />
      {runNow.data ? (
        <p className="notice" role="status">
          Run started: <Link to={`/runs/${runNow.data.run_id}`}>follow it</Link>.
        </p>
      ) : null}
      {deleting ? (
        <div className="confirm" role="dialog" aria-label="Delete the ingestion">
          <p>
            Delete <strong>{ingestion.name}</strong>? Its schedule and file records go; the table and its
            rows stay.
          </p>
          <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
            Delete it
          </button>
          <button type="button" onClick={() => setDeleting(false)}>
            Keep it
          </button>
        </div>
      ) : null}
      <div className="cards">
        <div className="card">
          <h2>Source</h2>
          <dl>
            <dt>URI</dt>
            <dd><code>{source.uri}</code></dd>
            <dt>Glob</dt>
            <dd><code>{source.glob || "*"}</code></dd>
            <dt>Credential</dt>
            <dd>{source.credential_ref || "none"}</dd>
            <dt>File age</dt>
            <dd>
              at least {source.min_file_age_seconds ?? 0} s
              {source.max_file_age_seconds ? `, at most ${source.max_file_age_seconds} s` : ""}
            </dd>
          </dl>
        </div>
        <div className="card">
          <h2>Format</h2>
          <dl>
            <dt>Type</dt>
            <dd>{format.type}</dd>
            <dt>Schema</dt>
            <dd>{format.schema_ddl ? <code>{format.schema_ddl}</code> : "inferred"}</dd>
            <dt>New columns</dt>
            <dd>{format.schema_evolution}</dd>
            <dt>Corrupt records</dt>
            <dd>{format.corrupt_records}</dd>
          </dl>
        </div>
        <div className="card">
          <h2>Destination</h2>
          <dl>
            <dt>Table</dt>
            <dd><code>{destination.catalog}.{destination.namespace}.{destination.table}</code></dd>
            <dt>Partitioning</dt>
            <dd>{destination.partitioning?.length ? destination.partitioning.join(", ") : "none"}</dd>
            <dt>Schedule</dt>
            <dd>{schedule(ingestion.schedule.cron, ingestion.schedule.timezone)}</dd>
            <dt>Files</dt>
            <dd data-testid="file-counts">
              {count(counts.loaded ?? 0)} loaded, {count(counts.failed ?? 0)} failed,{" "}
              {count((counts.discovered ?? 0) + (counts.claimed ?? 0))} waiting
            </dd>
          </dl>
        </div>
      </div>
      {canWrite ? <Refreshes ingestion={ingestion} onDone={refreshAll} /> : null}
      <Runs ingestionId={ingestion.id} />
      <FilesTable ingestionId={ingestion.id} />
      <SchemaVersions ingestionId={ingestion.id} />
    </section>
  );
}

type RefreshMode = "full" | "new-only";

function Refreshes({ ingestion, onDone }: { ingestion: Ingestion; onDone: () => void }) {
  const [planned, setPlanned] = useState<{ mode: RefreshMode; plan: Refreshed } | null>(null);
  const path = (mode: RefreshMode) => `/api/v1/ingestions/${ingestion.id}/refresh/${mode}`;
  const plan = useMutation({
    mutationFn: (mode: RefreshMode) =>
      call<Refreshed>(path(mode), { method: "POST", body: { dry_run: true } }).then((p) => ({ mode, plan: p })),
    onSuccess: setPlanned,
  });
  const apply = useMutation({
    mutationFn: (mode: RefreshMode) => call<Refreshed>(path(mode), { method: "POST", body: { confirm: true } }),
    onSuccess: () => {
      setPlanned(null);
      onDone();
    },
  });
  return (
    <div className="card wide">
      <h2>Refresh</h2>
      <p className="muted">
        Full: delete the table's rows and load every file again. New only: forget the files waiting, load
        only what arrives from now on. Each shows what it would do first.
      </p>
      <button type="button" onClick={() => plan.mutate("full")} disabled={plan.isPending}>
        Refresh full…
      </button>
      <button type="button" onClick={() => plan.mutate("new-only")} disabled={plan.isPending}>
        Refresh new only…
      </button>
      <ErrorBox error={plan.error ?? apply.error} />
      {planned ? (
        <div className="confirm" role="dialog" aria-label="Confirm the refresh">
          {planned.mode === "full" ? (
            <p>
              A full refresh deletes <strong>{count(planned.plan.rows)}</strong> rows and loads{" "}
              <strong>{count(planned.plan.files)}</strong> files again
              {planned.plan.claimed_files ? ` (${planned.plan.claimed_files} in a running batch stay with it)` : ""}.
            </p>
          ) : (
            <p>
              <strong>{count(planned.plan.files)}</strong> waiting files will no longer be loaded.
            </p>
          )}
          <button type="button" className="danger" onClick={() => apply.mutate(planned.mode)} disabled={apply.isPending}>
            Confirm
          </button>
          <button type="button" onClick={() => setPlanned(null)}>
            Cancel
          </button>
        </div>
      ) : null}
    </div>
  );
}

function Runs({ ingestionId }: { ingestionId: string }) {
  const runs = useQuery({
    queryKey: ["runs", ingestionId, "ran"],
    queryFn: () =>
      call<Page<Run>>(`/api/v1/ingestions/${ingestionId}/runs${query({ limit: 25, state: RAN_STATES })}`),
    refetchInterval: 5_000,
  });
  // Runs scheduled ahead: how many, and the soonest (the API lists the farthest first).
  const ahead = useQuery({
    queryKey: ["runs", ingestionId, "scheduled"],
    queryFn: async () => {
      const path = `/api/v1/ingestions/${ingestionId}/runs`;
      const first = await call<Page<Run>>(`${path}${query({ limit: 1, state: ["SCHEDULED"] })}`);
      const total = first.pagination.total ?? first.items.length;
      if (total <= 1) return { total, soonest: first.items[0] ?? null };
      const last = await call<Page<Run>>(`${path}${query({ limit: 1, offset: total - 1, state: ["SCHEDULED"] })}`);
      return { total, soonest: last.items[0] ?? null };
    },
    refetchInterval: 15_000,
  });
  return (
    <div className="card wide">
      <h2>Runs</h2>
      {ahead.data && ahead.data.total > 0 ? (
        <p className="muted" data-testid="scheduled-ahead">
          {count(ahead.data.total)} scheduled ahead
          {ahead.data.soonest ? `, the next due ${when(ahead.data.soonest.expected_start_time)}` : ""}.
        </p>
      ) : null}
      <ErrorBox error={runs.error ?? ahead.error} />
      {runs.isPending ? <Loading what="runs" /> : null}
      {runs.data && runs.data.items.length === 0 ? <Empty>No runs yet.</Empty> : null}
      {runs.data && runs.data.items.length > 0 ? (
        <table className="grid" data-testid="runs">
          <thead>
            <tr>
              <th>Run</th>
              <th>State</th>
              <th>Trigger</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Files</th>
              <th>Rows</th>
              <th>Bytes</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.items.map((run) => {
              const failed = ["FAILED", "CRASHED"].includes(run.state) || run.state_name?.toLowerCase().includes("fail");
              return (
                <tr key={run.id} className={failed ? "failed" : undefined}>
                  <td>
                    <Link to={`/runs/${run.id}`}>{run.name}</Link>
                  </td>
                  <td>
                    <RunState state={run.state} name={run.state_name} />
                  </td>
                  <td>{run.trigger ?? "–"}</td>
                  <td title={timestamp(run.start_time)}>
                    {run.start_time ? when(run.start_time) : run.expected_start_time ? `due ${when(run.expected_start_time)}` : "–"}
                  </td>
                  <td>{duration(run.duration_seconds)}</td>
                  <td>{count(run.files_loaded)}</td>
                  <td>{count(run.rows)}</td>
                  <td>{bytes(run.bytes)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function SchemaVersions({ ingestionId }: { ingestionId: string }) {
  const versions = useQuery({
    queryKey: ["schema-versions", ingestionId],
    queryFn: () => call<Page<SchemaVersion>>(`/api/v1/ingestions/${ingestionId}/schema-versions`),
  });
  const items = versions.data?.items ?? [];
  return (
    <div className="card wide">
      <h2>Schema versions</h2>
      <ErrorBox error={versions.error} />
      {versions.data && items.length === 0 ? <Empty>No batch has loaded yet.</Empty> : null}
      {items.length > 0 ? (
        <table className="grid compact">
          <thead>
            <tr>
              <th>Version</th>
              <th>When</th>
              <th>Why</th>
              <th>Columns</th>
            </tr>
          </thead>
          <tbody>
            {items.map((version) => (
              <tr key={version.version}>
                <td>{version.version}</td>
                <td>{timestamp(version.created_at)}</td>
                <td>
                  {version.trigger} ({version.resolution})
                </td>
                <td>{version.columns.map((c) => `${c.name} ${c.type}`).join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
