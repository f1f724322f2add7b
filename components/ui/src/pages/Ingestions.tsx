// The home page: every ingestion of the tenant at a glance, refreshed as it changes.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { call, query } from "../api/client";
import { type Ingestion, type IngestionStatus, type Page, RAN_STATES, type Run } from "../api/types";
import { Badge, Empty, ErrorBox, Loading, RunState } from "../parts/common";
import { useSession } from "../session";
import { count, nextRuns, previousRun, schedule, when } from "../words";

const REFRESH_MS = 15_000;
const LATE_AFTER_MS = 10 * 60_000;

export function Ingestions() {
  const { canWrite } = useSession();
  const [status, setStatus] = useState<IngestionStatus | "">("");
  const [name, setName] = useState("");
  const list = useQuery({
    queryKey: ["ingestions", status, name],
    queryFn: () =>
      call<Page<Ingestion>>(`/api/v1/ingestions${query({ limit: 100, status, name })}`),
    refetchInterval: REFRESH_MS,
  });

  return (
    <section>
      <div className="title-row">
        <h1>Ingestions</h1>
        {canWrite ? (
          <Link className="button primary" to="/new">
            New ingestion
          </Link>
        ) : null}
      </div>
      <div className="filters">
        <label>
          <span className="label">Name</span>
          <input
            type="search"
            aria-label="Name contains"
            placeholder="contains…"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label>
          <span className="label">Status</span>
          <select
            aria-label="Status"
            value={status}
            onChange={(e) => setStatus(e.target.value as IngestionStatus | "")}
          >
            <option value="">any</option>
            <option value="active">active</option>
            <option value="paused">paused</option>
            <option value="error">error</option>
          </select>
        </label>
        <span className="muted">refreshes every {REFRESH_MS / 1000} s</span>
      </div>
      <ErrorBox error={list.error} />
      {list.isPending ? <Loading what="ingestions" /> : null}
      {list.data && list.data.items.length === 0 ? (
        <Empty>
          {name || status
            ? "No ingestion matches these filters."
            : "No ingestions yet. Create one to load files into a table."}
        </Empty>
      ) : null}
      {list.data && list.data.items.length > 0 ? (
        <table className="grid" data-testid="ingestions">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>Schedule</th>
              <th>Last run</th>
              <th>Next run</th>
              <th>Backlog</th>
              <th>Failed files</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((ingestion) => (
              <IngestionRow key={ingestion.id} ingestion={ingestion} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function IngestionRow({ ingestion }: { ingestion: Ingestion }) {
  // The list answers specs; counts and runs come from each ingestion's own reads.
  const detail = useQuery({
    queryKey: ["ingestion", ingestion.id],
    queryFn: () => call<Ingestion>(`/api/v1/ingestions/${ingestion.id}`),
    refetchInterval: REFRESH_MS,
  });
  const runs = useQuery({
    queryKey: ["runs", ingestion.id, "latest"],
    queryFn: () =>
      call<Page<Run>>(
        `/api/v1/ingestions/${ingestion.id}/runs${query({ limit: 1, state: RAN_STATES })}`,
      ),
    refetchInterval: REFRESH_MS,
  });
  const counts = detail.data?.file_counts ?? {};
  const backlog = (counts.discovered ?? 0) + (counts.claimed ?? 0);
  const failed = counts.failed ?? 0;
  const last = runs.data?.items[0];
  const next = nextRun(ingestion);
  const late = isLate(ingestion, last);
  return (
    <tr className={failed > 0 ? "has-failures" : undefined}>
      <td>
        <Link to={`/ingestions/${ingestion.id}`}>{ingestion.name}</Link>
        {failed > 0 ? <span className="badge bad small">failures</span> : null}
        {late ? <span className="badge warn small">late</span> : null}
      </td>
      <td>
        <Badge value={ingestion.status} />
      </td>
      <td>{schedule(ingestion.schedule.cron, ingestion.schedule.timezone)}</td>
      <td>
        {last ? (
          <>
            <RunState state={last.state} name={last.state_name} />{" "}
            <span className="muted">{when(last.end_time ?? last.start_time)}</span>
          </>
        ) : runs.isPending ? (
          "…"
        ) : (
          <span className="muted">never</span>
        )}
      </td>
      <td title={next ? next.toISOString() : undefined}>
        {next ? when(next.toISOString()) : <span className="muted">–</span>}
      </td>
      <td>{detail.data ? `${count(backlog)} files` : "…"}</td>
      <td className={failed > 0 ? "bad-text" : undefined}>{detail.data ? count(failed) : "…"}</td>
    </tr>
  );
}

/** When the schedule next fires (Prefect schedules by the same cron), if the ingestion is active. */
function nextRun(ingestion: Ingestion): Date | null {
  const cron = ingestion.schedule.cron;
  if (ingestion.status !== "active" || !cron) return null;
  const upcoming = nextRuns(cron, ingestion.schedule.timezone, 1);
  return Array.isArray(upcoming) ? (upcoming[0] ?? null) : null;
}

/** Active, scheduled, and no run has started since the schedule last fired (a while ago). */
function isLate(ingestion: Ingestion, last: Run | undefined): boolean {
  const cron = ingestion.schedule.cron;
  if (ingestion.status !== "active" || !cron) return false;
  const fired = previousRun(cron, ingestion.schedule.timezone);
  if (!fired || Date.now() - fired.getTime() < LATE_AFTER_MS) return false;
  if (new Date(ingestion.created_at).getTime() > fired.getTime()) return false;
  const started = last?.start_time ?? last?.expected_start_time;
  return !started || new Date(started).getTime() < fired.getTime();
}
