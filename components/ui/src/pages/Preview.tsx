// The wizard's live preview: the API's preview of the spec as typed (matching files, inferred
// columns, the diff against an existing table, the first rows).
import { useEffect, useRef, useState } from "react";
import { ApiError, call } from "../api/client";
import type { Preview, PreviewBody } from "../api/types";
import { ErrorBox } from "../parts/common";
import { count } from "../words";

const DEBOUNCE_MS = 1200;
const POLL_MS = 1000;

interface PreviewState {
  running: boolean;
  result: Preview | null;
  error: unknown;
}

function ready(body: PreviewBody): boolean {
  return Boolean(body.source.uri && body.destination.namespace && body.destination.table);
}

/** Runs a preview each time `body` settles; `onFields` gets the field errors of the last one. */
export function usePreview(body: PreviewBody, onFields: (fields: Record<string, string>) => void) {
  const [state, setState] = useState<PreviewState>({ running: false, result: null, error: null });
  const [nonce, setNonce] = useState(0);
  const latest = useRef(0);
  const text = JSON.stringify(body);

  useEffect(() => {
    const spec = JSON.parse(text) as PreviewBody;
    const id = ++latest.current; // any preview still running is for an older spec now
    if (!ready(spec)) return;
    const timer = window.setTimeout(async () => {
      setState((s) => ({ ...s, running: true, error: null }));
      try {
        let preview = await call<Preview>("/api/v1/ingestions/preview", {
          method: "POST",
          body: spec,
        });
        while (preview.status === "running" && id === latest.current) {
          await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
          preview = await call<Preview>(`/api/v1/previews/${preview.run_id}`);
        }
        if (id !== latest.current) return; // the spec changed meanwhile: that preview is stale
        onFields({});
        setState({ running: false, result: preview, error: null });
      } catch (error) {
        if (id !== latest.current) return;
        onFields(error instanceof ApiError ? error.fields : {});
        setState({ running: false, result: null, error });
      }
    }, DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [text, nonce, onFields]);

  return { ...state, waiting: !ready(body), again: () => setNonce((n) => n + 1) };
}

export function PreviewPanel({ preview }: { preview: ReturnType<typeof usePreview> }) {
  const { running, result, error, waiting } = preview;
  return (
    <aside className="preview" aria-live="polite" data-testid="preview">
      <div className="title-row">
        <h2>Preview</h2>
        <button type="button" onClick={preview.again} disabled={waiting || running}>
          Preview again
        </button>
      </div>
      {waiting ? (
        <p className="muted">Give a source URI and a destination namespace and table to preview.</p>
      ) : null}
      {running && !waiting ? (
        <p className="muted" role="status">
          Reading a sample of the files…
        </p>
      ) : null}
      {!waiting ? <ErrorBox error={error} /> : null}
      {!waiting && result && result.status === "completed" ? <PreviewResult result={result} /> : null}
    </aside>
  );
}

function PreviewResult({ result }: { result: Preview }) {
  const columns = result.columns ?? [];
  const rows = result.rows ?? [];
  const diff = result.table_exists ? result.schema_diff : null;
  const changes = diff ? Object.values(diff).some((v) => (Array.isArray(v) ? v.length : v && Object.keys(v).length)) : false;
  return (
    <div>
      <p data-testid="matching-files">
        <strong>{count(result.matching_files)}</strong> matching files
        {result.sampled_files?.length ? `, ${result.sampled_files.length} sampled` : ""}
        {result.seconds ? ` (${result.seconds.toFixed(1)} s)` : ""}
      </p>
      {result.warnings?.map((warning) => (
        <p key={warning} className="warning">
          {warning}
        </p>
      ))}
      <h3>Columns</h3>
      <table className="grid compact" data-testid="preview-columns">
        <thead>
          <tr>
            <th>Column</th>
            <th>Type</th>
          </tr>
        </thead>
        <tbody>
          {columns.map((column) => (
            <tr key={column.name}>
              <td>
                <code>{column.name}</code>
              </td>
              <td>{column.type}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Against the table</h3>
      <p>
        {result.table_exists
          ? changes
            ? "The table exists; the sample changes it:"
            : "The table exists and the sample fits it."
          : "The table does not exist yet: the first run creates it."}
      </p>
      {changes ? <pre className="diff">{JSON.stringify(diff, null, 2)}</pre> : null}
      <h3>First rows</h3>
      {rows.length === 0 ? (
        <p className="muted">No rows in the sample.</p>
      ) : (
        <div className="scroll">
          <table className="grid compact" data-testid="preview-rows">
            <thead>
              <tr>
                {columns.map((column) => (
                  <th key={column.name}>{column.name}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => (
                <tr key={i}>
                  {columns.map((column) => (
                    <td key={column.name}>{cell(row[column.name])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "null";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
