"""`autoloader`: keep ingestion specs in files and apply them, and run, watch and inspect
ingestions from a terminal or CI. It talks only to the REST API.

Exit codes: 0 done (or nothing to do); 1 a failure (the API refused, a run failed, `diff` found a
difference); 2 a spec or argument the API or the CLI finds invalid, with nothing changed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from autoloader_cli import __version__, admin, apply, operations
from autoloader_cli.client import Api, ApiError, Unreachable, ValidationFailed
from autoloader_cli.config import ConfigError, Profile, load_profile, save_profile
from autoloader_cli.context import STATE, api, fail
from autoloader_cli.output import Output, emit, out
from autoloader_cli.specs import as_document, read_specs

EPILOG = "Docs: the README's 'Command line' section. Exit codes: 0 done, 1 failed, 2 invalid."

app = typer.Typer(
    name="autoloader",
    help="Autoloader from the terminal: ingestion specs as files (apply, diff, get), runs, "
    "files and refreshes, through the REST API.",
    no_args_is_help=True,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
ingestions_app = typer.Typer(help="The tenant's ingestions.", no_args_is_help=True)
runs_app = typer.Typer(help="Runs of ingestions.", no_args_is_help=True)
files_app = typer.Typer(help="The files an ingestion has seen.", no_args_is_help=True)
refresh_app = typer.Typer(
    help="Load everything again, or only what arrives later.", no_args_is_help=True
)
get_app = typer.Typer(
    help="Export as spec documents that `apply` takes back.", no_args_is_help=True
)
app.add_typer(ingestions_app, name="ingestions")
app.add_typer(runs_app, name="runs")
app.add_typer(files_app, name="files")
app.add_typer(refresh_app, name="refresh")
app.add_typer(get_app, name="get")
app.add_typer(admin.app, name="admin")

OutputOption = Annotated[Output, typer.Option("--output", "-o", help="table, json or yaml.")]
NameArgument = Annotated[str, typer.Argument(help="The ingestion's name or id.", metavar="NAME")]
PathOption = Annotated[
    Path, typer.Option("--file", "-f", help="A spec file, or a directory read recursively.")
]


@app.callback()
def main(
    profile: Annotated[
        str | None, typer.Option(help="A profile saved by `login` (default: AUTOLOADER_PROFILE).")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log each request (never its headers).")
    ] = False,
) -> None:
    STATE.profile_name = profile
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # it would log URLs twice


# -- configuration ----------------------------------------------------------------------------


@app.command(epilog="Example: autoloader login --url https://autoloader.example.com")
def login(
    url: Annotated[str, typer.Option(help="The API's base URL.")],
    profile: Annotated[str, typer.Option(help="Save it under this name.")] = "default",
    api_key_stdin: Annotated[
        bool, typer.Option("--api-key-stdin", help="Read the key from stdin (CI), not a prompt.")
    ] = False,
) -> None:
    """Checks a key against the server and saves it (~/.config/autoloader/config.toml, 0600)."""
    key = (
        sys.stdin.readline().strip() if api_key_stdin else typer.prompt("API key", hide_input=True)
    )
    candidate = Profile(url=url.rstrip("/"), api_key=key)
    with api(candidate) as client:
        identity = client.get("/api/v1/whoami")
    path = save_profile(profile, candidate)
    out.print(
        f"logged in to {candidate.url} with key {identity['key_name']!r} (tenant "
        f"{identity['tenant_id']}, scopes {', '.join(identity['scopes'])}); saved as profile "
        f"{profile!r} in {path}"
    )


@app.command()
def whoami(output: OutputOption = Output.TABLE) -> None:
    """The key in use: its tenant and scopes."""
    with api() as client:
        emit(client.get("/api/v1/whoami"), output)


@app.command()
def version() -> None:
    """The CLI's version and the server's (when one is configured and answers)."""
    out.print(f"autoloader CLI {__version__}")
    try:
        with Api(load_profile(STATE.profile_name)) as client:
            out.print(f"server {client.base_url}: {client.get('/health')['version']}")
    except (ConfigError, Unreachable, ApiError) as error:
        out.print(f"server: unknown ({error})")


# -- specs as files ---------------------------------------------------------------------------


SetOption = Annotated[
    str | None,
    typer.Option(
        "--set",
        help="The name of this set of spec files, recorded as a label on what it manages; "
        "--prune uses it (default: the file's or directory's name).",
    ),
]


@app.command(
    "apply",
    epilog="Examples: autoloader apply -f examples/ --dry-run; autoloader apply -f specs/ --prune",
)
def apply_command(
    path: PathOption,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    prune: Annotated[
        bool, typer.Option(help="Delete ingestions of this set that its files no longer hold.")
    ] = False,
    set_name: SetOption = None,
) -> None:
    """Creates what is missing, changes what differs, leaves the rest; prints the plan first.
    Every document is checked by the API before anything changes."""
    with api() as client:
        plan = apply.plan(client, read_specs(path), apply.set_of(path, set_name, prune), prune)
        for line in plan.lines():
            print(line)
        if dry_run or not plan.pending:
            return
        for message in apply.execute(client, plan):
            print(message)


@app.command(epilog="Example (CI): autoloader diff -f specs/ || echo 'specs and server differ'")
def diff(path: PathOption, prune: bool = False, set_name: SetOption = None) -> None:
    """The plan `apply` would carry out; exits 1 when there is anything to do."""
    with api() as client:
        plan = apply.plan(client, read_specs(path), apply.set_of(path, set_name, prune), prune)
    for line in plan.lines():
        print(line)
    if plan.pending:
        raise typer.Exit(1)


@get_app.command("ingestion", epilog="Example: autoloader get ingestion orders > specs/orders.yaml")
def get_ingestion(name: NameArgument, output: OutputOption = Output.YAML) -> None:
    """An ingestion as a spec document; `apply` takes it back with no change."""
    with api() as client:
        emit(as_document(client.ingestion(name)), output)


@app.command(epilog="Example: autoloader preview -f specs/orders.yaml")
def preview(
    path: PathOption,
    max_files: Annotated[int, typer.Option(help="Files to sample.")] = 10,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
    output: OutputOption = Output.TABLE,
) -> None:
    """What loading the spec's first files would give (columns, schema diff, first rows),
    writing nothing. A file of several documents previews the first."""
    with api() as client:
        document = read_specs(path)[0]
        body: dict[str, Any] = {
            key: document.spec[key]
            for key in ("source", "format", "destination", "cluster")
            if key in document.spec
        }
        try:
            result = operations.preview(client, {**body, "max_files": max_files, "limit": limit})
        except ValidationFailed as error:
            apply.report_invalid(document, error, offset=0)
            raise typer.Exit(2) from None
        operations.show_preview(result, output)


# -- ingestions -------------------------------------------------------------------------------


@ingestions_app.command("list")
def ingestions_list(output: OutputOption = Output.TABLE) -> None:
    """Name, status, schedule, last and next run, backlog and failed files."""
    with api() as client:
        operations.list_ingestions(client, output)


@ingestions_app.command("get")
def ingestions_get(name: NameArgument, output: OutputOption = Output.TABLE) -> None:
    """The ingestion as the API answers it, with its files counted by status."""
    with api() as client:
        emit(client.ingestion(name), output)


def _status_command(action: str) -> Callable[[str, Output], None]:
    def command(name: NameArgument, output: OutputOption = Output.TABLE) -> None:
        with api() as client:
            found = client.ingestion(name)
            changed = client.post(f"/api/v1/ingestions/{found['id']}/{action}")
            if output is Output.TABLE:
                out.print(f"{changed['name']}: {changed['status']}")
            else:
                emit(changed, output)

    command.__doc__ = f"{action.capitalize()}s the ingestion's schedule (and manual runs)."
    return command


ingestions_app.command("pause")(_status_command("pause"))
ingestions_app.command("resume")(_status_command("resume"))


@ingestions_app.command("delete")
def ingestions_delete(
    name: NameArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Deletes the ingestion and its deployment (the table and its rows stay)."""
    with api() as client:
        found = client.ingestion(name)
        if not yes and not typer.confirm(f"delete ingestion {found['name']}?"):
            raise typer.Exit(1)
        client.call("DELETE", f"/api/v1/ingestions/{found['id']}")
        out.print(f"deleted {found['name']}")


# -- runs -------------------------------------------------------------------------------------


@app.command(epilog="Example: autoloader run orders --wait (exits 1 when a file failed)")
def run(
    name: NameArgument,
    wait: Annotated[bool, typer.Option(help="Wait for the end; exit 1 unless all loaded.")] = False,
    follow: Annotated[bool, typer.Option(help="Stream the run's logs (implies --wait).")] = False,
    output: OutputOption = Output.TABLE,
) -> None:
    """Starts a run now. Ctrl-C stops waiting, never the run."""
    with api() as client:
        found = client.ingestion(name)
        started = client.post(f"/api/v1/ingestions/{found['id']}/run")
        if not (wait or follow):
            if output is Output.TABLE:
                out.print(f"run {started['run_id']} of {found['name']}: {started['state']}")
            else:
                emit(started, output)
            return
        finished = operations.wait_for_run(client, started["run_id"], follow)
        operations.show_run(finished, output)
        if not operations.succeeded(finished):
            raise typer.Exit(1)


@runs_app.command("list")
def runs_list(
    name: NameArgument,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    output: OutputOption = Output.TABLE,
) -> None:
    """The ingestion's runs, newest first (scheduled ones ahead first)."""
    with api() as client:
        found = client.ingestion(name)
        page = client.get(f"/api/v1/ingestions/{found['id']}/runs", limit=limit)
        emit(page["items"], output, operations.RUN_COLUMNS)


@runs_app.command("get")
def runs_get(run_id: str, output: OutputOption = Output.TABLE) -> None:
    """A run with its files, rows and failures."""
    with api() as client:
        operations.show_run(client.get(f"/api/v1/runs/{run_id}"), output)


@runs_app.command("logs")
def runs_logs(run_id: str, output: OutputOption = Output.TABLE) -> None:
    """A run's log lines."""
    with api() as client:
        lines = list(client.pages(f"/api/v1/runs/{run_id}/logs"))
        if output is Output.TABLE:
            for line in lines:
                out.print(operations.log_line(line), markup=False)
        else:
            emit(lines, output)


@runs_app.command("retry")
def runs_retry(run_id: str, output: OutputOption = Output.TABLE) -> None:
    """A new run of the same ingestion, which loads what this one did not."""
    with api() as client:
        emit(client.post(f"/api/v1/runs/{run_id}/retry"), output)


@runs_app.command("cancel")
def runs_cancel(run_id: str, output: OutputOption = Output.TABLE) -> None:
    """Cancels a run not started, or asks a running one to stop."""
    with api() as client:
        operations.show_run(client.post(f"/api/v1/runs/{run_id}/cancel"), output)


# -- files and refreshes ----------------------------------------------------------------------

StatusOption = Annotated[
    list[str] | None,
    typer.Option("--status", help="discovered, claimed, loaded or failed (repeatable)."),
]
GlobOption = Annotated[str | None, typer.Option("--path", help="A glob on the file's path.")]


@files_app.command("list", epilog="Example: autoloader files list orders --status failed")
def files_list(
    name: NameArgument,
    status: StatusOption = None,
    path: GlobOption = None,
    output: OutputOption = Output.TABLE,
) -> None:
    """The ingestion's files, oldest first, with why each failed."""
    with api() as client:
        found = client.ingestion(name)
        items = list(
            client.pages(f"/api/v1/ingestions/{found['id']}/files", status=status, path=path)
        )
        emit(items, output, operations.FILE_COLUMNS)


@files_app.command("reprocess", epilog="Example: autoloader files reprocess orders --status failed")
def files_reprocess(
    name: NameArgument,
    status: StatusOption = None,
    path: GlobOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count them.")] = False,
) -> None:
    """Sends files back to be loaded by the next run (failed ones by default)."""
    with api() as client:
        found = client.ingestion(name)
        body: dict[str, Any] = {"statuses": status or ["failed"], "dry_run": dry_run}
        if path:
            body["path"] = path
        done = client.post(f"/api/v1/ingestions/{found['id']}/files/reprocess", body)
        verb = "would reprocess" if dry_run else "reprocessing"
        out.print(f"{found['name']}: {verb} {done['files']} files")


def _refresh_command(mode: str) -> Callable[..., None]:
    def command(
        name: NameArgument,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count.")] = False,
        yes: Annotated[bool, typer.Option("--yes", help="Confirm: it changes the table.")] = False,
        output: OutputOption = Output.TABLE,
    ) -> None:
        if not (dry_run or yes):
            fail("a refresh changes what is loaded: give --dry-run or --yes", 2)
        with api() as client:
            found = client.ingestion(name)
            done = client.post(
                f"/api/v1/ingestions/{found['id']}/refresh/{mode}",
                {"dry_run": dry_run, "confirm": yes},
            )
            emit(done, output)

    return command


refresh_app.command(
    "full", help="Deletes the rows the ingestion loaded and loads every file again."
)(_refresh_command("full"))
refresh_app.command("new-only", help="From now on, only files that arrive later load.")(
    _refresh_command("new-only")
)


def run_cli() -> None:
    app(prog_name="autoloader")


if __name__ == "__main__":
    run_cli()
