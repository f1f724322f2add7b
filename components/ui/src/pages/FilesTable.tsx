// An ingestion's files from the ledger: filter by status and path, see why one failed, and send
// one or many back to be loaded again.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { call, query } from "../api/client";
import { FILE_STATUSES, type FileStatus, type LedgerFile, type Page, type Reprocessed } from "../api/types";
import { Badge, Empty, ErrorBox, Loading } from "../parts/common";
import { useSession } from "../session";
import { bytes, count, timestamp } from "../words";

const PAGE = 50;

export function FilesTable({ ingestionId }: { ingestionId: string }) {
  const { canWrite } = useSession();
  const queries = useQueryClient();
  const [status, setStatus] = useState<FileStatus | "">("");
  const [path, setPath] = useState("");
  const [offset, setOffset] = useState(0);
  const [chosen, setChosen] = useState<Set<number>>(new Set());
  const glob = path.trim() ? (path.includes("*") || path.includes("?") ? path.trim() : `*${path.trim()}*`) : "";
  const files = useQuery({
    queryKey: ["files", ingestionId, status, glob, offset],
    queryFn: () =>
      call<Page<LedgerFile>>(
        `/api/v1/ingestions/${ingestionId}/files${query({ limit: PAGE, offset, status, path: glob })}`,
      ),
    refetchInterval: 5_000,
  });
  const reprocess = useMutation({
    mutationFn: (ids: number[]) =>
      call<Reprocessed>(`/api/v1/ingestions/${ingestionId}/files/reprocess`, {
        method: "POST",
        body: { file_ids: ids, statuses: ["failed", "loaded", "skipped", "discovered"] },
      }),
    onSuccess: () => {
      setChosen(new Set());
      void queries.invalidateQueries({ queryKey: ["files", ingestionId] });
      void queries.invalidateQueries({ queryKey: ["ingestion", ingestionId] });
    },
  });
  const items = files.data?.items ?? [];
  const total = files.data?.pagination.total ?? 0;
  const toggle = (id: number) =>
    setChosen((before) => {
      const next = new Set(before);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <div className="card wide">
      <h2>Files</h2>
      <div className="filters">
        <label>
          <span className="label">Status</span>
          <select
            name="file-status"
            aria-label="File status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as FileStatus | "");
              setOffset(0);
            }}
          >
            <option value="">any</option>
            {FILE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="label">Path</span>
          <input
            type="search"
            name="file-path"
            aria-label="File path"
            placeholder="contains, or a glob"
            value={path}
            onChange={(e) => {
              setPath(e.target.value);
              setOffset(0);
            }}
          />
        </label>
        {canWrite ? (
          <button
            type="button"
            onClick={() => reprocess.mutate([...chosen])}
            disabled={chosen.size === 0 || reprocess.isPending}
          >
            Reprocess {chosen.size || ""} selected
          </button>
        ) : null}
        {reprocess.data ? (
          <span className="notice" role="status">
            {count(reprocess.data.files)} files sent back: the next run loads them.
          </span>
        ) : null}
      </div>
      <ErrorBox error={files.error ?? reprocess.error} />
      {files.isPending ? <Loading what="files" /> : null}
      {files.data && items.length === 0 ? <Empty>No file matches.</Empty> : null}
      {items.length > 0 ? (
        <table className="grid" data-testid="files">
          <thead>
            <tr>
              {canWrite ? <th aria-label="choose" /> : null}
              <th>Path</th>
              <th>Status</th>
              <th>Size</th>
              <th>Rows</th>
              <th>Attempts</th>
              <th>Modified</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {items.map((file) => (
              <tr key={file.id} className={file.status === "failed" ? "failed" : undefined} data-path={file.path}>
                {canWrite ? (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`choose ${file.path}`}
                      checked={chosen.has(file.id)}
                      onChange={() => toggle(file.id)}
                    />
                  </td>
                ) : null}
                <td className="path">{file.path}</td>
                <td>
                  <Badge value={file.status} />
                </td>
                <td>{bytes(file.size)}</td>
                <td>{count(file.rows_loaded)}</td>
                <td>{file.attempts}</td>
                <td>{timestamp(file.modified_at)}</td>
                <td className="reason">
                  {file.error_category ? <strong>{file.error_category}: </strong> : null}
                  {file.last_error ?? ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {total > PAGE ? (
        <div className="pager">
          <button type="button" onClick={() => setOffset(Math.max(0, offset - PAGE))} disabled={offset === 0}>
            Previous
          </button>
          <span>
            {offset + 1}–{Math.min(offset + PAGE, total)} of {count(total)}
          </span>
          <button type="button" onClick={() => setOffset(offset + PAGE)} disabled={offset + PAGE >= total}>
            Next
          </button>
        </div>
      ) : null}
    </div>
  );
}
