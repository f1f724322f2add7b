// Small pieces every page uses: errors in words, loading and empty states, badges.
import type { ReactNode } from "react";
import { ApiError } from "../api/client";

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message =
    error instanceof ApiError || error instanceof Error ? error.message : "Something went wrong.";
  return (
    <div className="error" role="alert">
      {message.split("\n").map((line, i) => (
        <div key={i}>{line}</div>
      ))}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

const STATE_CLASS: Record<string, string> = {
  COMPLETED: "ok",
  RUNNING: "busy",
  PENDING: "busy",
  SCHEDULED: "idle",
  PAUSED: "idle",
  CANCELLING: "busy",
  CANCELLED: "idle",
  FAILED: "bad",
  CRASHED: "bad",
  active: "ok",
  paused: "idle",
  error: "bad",
  loaded: "ok",
  failed: "bad",
  discovered: "idle",
  claimed: "busy",
  skipped: "idle",
};

export function Badge({ value, label }: { value: string; label?: string | null }) {
  const failed = label?.toLowerCase().includes("fail");
  const tone = failed ? "bad" : (STATE_CLASS[value] ?? "idle");
  return <span className={`badge ${tone}`}>{label || value}</span>;
}

/** A run's state as people read it: "Completed with failures" rather than COMPLETED. */
export function RunState({ state, name }: { state: string; name?: string | null }) {
  return <Badge value={state} label={name || state.charAt(0) + state.slice(1).toLowerCase()} />;
}
