"""Everyday commands' work: the ingestions table, waiting for a run, previews."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import typer
from autoloader_cli.client import Api
from autoloader_cli.output import Column, Output, emit, err, out, size, when
from rich.markup import escape
from rich.table import Table
from rich.text import Text

FINAL_STATES = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
STARTED_STATES = (*FINAL_STATES, "PENDING", "RUNNING", "CANCELLING")
POLL_SECONDS = 2.0
LEVELS = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}

RUN_COLUMNS: list[Column] = [
    ("RUN", lambda r: r["id"]),
    ("STATE", lambda r: r.get("state_name") or r["state"]),
    ("TRIGGER", lambda r: r.get("trigger")),
    ("START", lambda r: when(r.get("start_time") or r.get("expected_start_time"))),
    ("SECONDS", lambda r: r.get("duration_seconds")),
    ("FILES", lambda r: r.get("files_loaded")),
    ("ROWS", lambda r: r.get("rows")),
    ("FAILED", lambda r: r.get("files_failed")),
]
FILE_COLUMNS: list[Column] = [
    ("ID", lambda f: f["id"]),
    ("PATH", lambda f: f["path"]),
    ("STATUS", lambda f: f["status"]),
    ("SIZE", lambda f: size(f.get("size"))),
    ("ROWS", lambda f: f.get("rows_loaded")),
    ("CATEGORY", lambda f: f.get("error_category")),
    ("ERROR", lambda f: (f.get("last_error") or f.get("cleanup_error") or "")[:120] or None),
]


def list_ingestions(client: Api, output: Output) -> None:
    items = client.ingestions()
    if output is not Output.TABLE:
        emit(items, output)
        return
    with ThreadPoolExecutor(max_workers=8) as pool:  # two reads per ingestion, side by side
        details = list(pool.map(lambda item: _detail(client, item), items))
    emit(
        details,
        output,
        [
            ("NAME", lambda d: d["name"]),
            ("STATUS", lambda d: d["status"]),
            ("SCHEDULE", lambda d: d["schedule"]),
            ("LAST RUN", lambda d: d["last_run"]),
            ("NEXT RUN", lambda d: d["next_run"]),
            ("BACKLOG", lambda d: d["backlog"]),
            ("FAILED", lambda d: d["failed"]),
        ],
    )


def _detail(client: Api, item: dict[str, Any]) -> dict[str, Any]:
    runs = f"/api/v1/ingestions/{item['id']}/runs"
    one = client.get(f"/api/v1/ingestions/{item['id']}")
    started = client.get(runs, limit=1, state=list(STARTED_STATES))["items"]
    # Newest first: the soonest of the runs scheduled ahead is the last of them.
    scheduled = client.get(runs, limit=200, state=["SCHEDULED"])["items"]
    counts = one.get("file_counts") or {}
    schedule = item["schedule"]
    last = started[0] if started else None
    soonest = min((r["expected_start_time"] for r in scheduled), default=None)
    return {
        "name": item["name"],
        "status": item["status"],
        "schedule": f"{schedule['cron']} ({schedule['timezone']})"
        if schedule["cron"]
        else "manual",
        "last_run": f"{last.get('state_name') or last['state']} {when(last.get('start_time'))}"
        if last
        else "-",
        "next_run": when(soonest),
        "backlog": f"{counts.get('discovered', 0)} files",
        "failed": counts.get("failed", 0),
    }


def wait_for_run(client: Api, run_id: str, follow: bool) -> dict[str, Any]:
    """Polls the run until it ends, with a spinner (or its logs, following). Ctrl-C stops
    waiting and leaves the run alone."""
    seen_logs = 0
    try:
        with err.status(f"run {run_id}: starting") as spinner:
            while True:
                run: dict[str, Any] = client.get(f"/api/v1/runs/{run_id}")
                spinner.update(f"run {run_id}: {run.get('state_name') or run['state']}")
                if follow:
                    lines = client.get(f"/api/v1/runs/{run_id}/logs", limit=200, offset=seen_logs)
                    for line in lines["items"]:
                        out.print(log_line(line), markup=False)
                    seen_logs += len(lines["items"])
                if run["state"] in FINAL_STATES and run.get("end_time"):
                    return run
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        err.print(
            f"stopped waiting; run {run_id} goes on (`autoloader runs get {run_id}` to see it, "
            f"`autoloader runs cancel {run_id}` to stop it)"
        )
        raise typer.Exit(130) from None


def succeeded(run: dict[str, Any]) -> bool:
    return (
        run["state"] == "COMPLETED"
        and not run.get("files_failed")
        and run.get("state_name") != "Completed with failures"
    )


def show_run(run: dict[str, Any], output: Output) -> None:
    if output is not Output.TABLE:
        emit(run, output)
        return
    emit([run], output, RUN_COLUMNS)
    if run.get("message"):
        out.print(run["message"], markup=False)
    for failure in run.get("failures") or []:
        category = failure.get("category") or "error"
        out.print(
            f"[red]failed[/] {escape(failure['path'])} ({category}): {escape(failure['error'])}"
        )


def log_line(line: dict[str, Any]) -> str:
    level = LEVELS.get(line.get("level", 20), str(line.get("level")))
    return f"{when(line['timestamp'])} {level:<7} {line['message']}"


def preview(client: Api, body: dict[str, Any]) -> dict[str, Any]:
    """Waits for a preview that outlasts the API's own wait (202, then polled)."""
    response: dict[str, Any] = client.post("/api/v1/ingestions/preview", body)
    with err.status("previewing"):
        while response.get("status") != "completed":
            time.sleep(1.0)
            response = client.get(f"/api/v1/previews/{response['run_id']}")
    return response


def show_preview(result: dict[str, Any], output: Output) -> None:
    if output is not Output.TABLE:
        emit(result, output)
        return
    out.print(
        f"{result.get('matching_files')} files match; sampled {len(result.get('sampled_files') or [])}"
    )
    columns = Table(box=None, header_style="bold", title="columns")
    columns.add_column("NAME")
    columns.add_column("TYPE")
    for column in result.get("columns") or []:
        columns.add_row(Text(column["name"]), Text(column["type"]))
    out.print(columns)
    if result.get("table_exists"):
        out.print(f"against the table: {result.get('schema_diff')}")
    rows = result.get("rows") or []
    if rows:
        names = list(rows[0])
        sample = Table(box=None, header_style="bold", title="first rows")
        for name in names:
            sample.add_column(name)
        for row in rows:
            sample.add_row(*(Text("-" if row.get(n) is None else str(row.get(n))) for n in names))
        out.print(sample)
    for warning in result.get("warnings") or []:
        out.print(f"[yellow]warning:[/] {escape(warning)}")
