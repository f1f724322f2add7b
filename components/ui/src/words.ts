// Numbers, times and schedules in words.
import { CronExpressionParser } from "cron-parser";
import cronstrue from "cronstrue";

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? size : size.toFixed(1)} ${units[unit]}`;
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : value.toLocaleString("en-US");
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "–";
  const date = new Date(iso);
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const ahead = seconds > 0;
  const span = Math.abs(seconds);
  let words: string;
  if (span < 60) words = `${span} s`;
  else if (span < 3600) words = `${Math.round(span / 60)} min`;
  else if (span < 86400) words = `${Math.round(span / 3600)} h`;
  else words = `${Math.round(span / 86400)} d`;
  return ahead ? `in ${words}` : `${words} ago`;
}

export function timestamp(iso: string | null | undefined): string {
  if (!iso) return "–";
  return new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds % 60)} s`;
}

/** "every 15 minutes, UTC"; "manual only" without a cron. */
export function schedule(cron: string | null | undefined, timezone: string | null | undefined): string {
  if (!cron) return "manual only";
  try {
    const text = cronstrue.toString(cron, { use24HourTimeFormat: true, verbose: false });
    return `${text.charAt(0).toLowerCase()}${text.slice(1)}, ${timezone || "UTC"}`;
  } catch {
    return `${cron} (${timezone || "UTC"})`;
  }
}

/** The next `n` times a cron fires in `timezone`, or the parser's complaint. */
export function nextRuns(cron: string, timezone: string, n = 5): Date[] | string {
  try {
    const expression = CronExpressionParser.parse(cron, { tz: timezone || "UTC" });
    return expression.take(n).map((d) => d.toDate());
  } catch (error) {
    return error instanceof Error ? error.message : "not a cron expression";
  }
}

/** The last time a cron fired before now, or null. */
export function previousRun(cron: string, timezone: string): Date | null {
  try {
    return CronExpressionParser.parse(cron, { tz: timezone || "UTC" }).prev().toDate();
  } catch {
    return null;
  }
}
