// The wizard's form: every field as typed (strings), and the API bodies made from it.
import type {
  ColumnNames,
  CorruptRecords,
  FileFormat,
  Ingestion,
  IngestionBody,
  IngestionPatch,
  PreviewBody,
  SchemaEvolution,
} from "../api/types";

export interface SpecForm {
  name: string;
  uri: string;
  glob: string;
  credentialRef: string;
  minFileAgeSeconds: string;
  maxFileAgeSeconds: string;
  format: FileFormat;
  options: string; // one key=value per line
  schemaDdl: string;
  schemaEvolution: SchemaEvolution;
  corruptRecords: CorruptRecords;
  columnNames: ColumnNames;
  catalog: string;
  namespace: string;
  table: string;
  partitioning: string; // comma-separated
  cron: string;
  timezone: string;
}

export const EMPTY_FORM: SpecForm = {
  name: "",
  uri: "",
  glob: "",
  credentialRef: "",
  minFileAgeSeconds: "0",
  maxFileAgeSeconds: "",
  format: "csv",
  options: "header=true",
  schemaDdl: "",
  schemaEvolution: "add_new_columns",
  corruptRecords: "keep",
  columnNames: "keep",
  catalog: "lake",
  namespace: "",
  table: "",
  partitioning: "",
  cron: "",
  timezone: "UTC",
};

function optionsOf(text: string): Record<string, string> {
  const options: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const at = trimmed.indexOf("=");
    if (at < 0) options[trimmed] = "";
    else options[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1).trim();
  }
  return options;
}

function numberOr(text: string, otherwise: number | null): number | null {
  const trimmed = text.trim();
  return trimmed === "" ? otherwise : Number(trimmed);
}

function list(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
}

function parts(form: SpecForm) {
  const source: IngestionBody["source"] = {
    uri: form.uri.trim(),
    glob: form.glob.trim() || null,
    credential_ref: form.credentialRef.trim() || null,
    min_file_age_seconds: numberOr(form.minFileAgeSeconds, 0) ?? 0,
    max_file_age_seconds: numberOr(form.maxFileAgeSeconds, null),
  };
  const format: IngestionBody["format"] = {
    type: form.format,
    options: optionsOf(form.options),
    schema_ddl: form.schemaDdl.trim() || null,
    schema_evolution: form.schemaEvolution,
    corrupt_records: form.corruptRecords,
    column_names: form.columnNames,
  };
  const destination: IngestionBody["destination"] = {
    catalog: form.catalog.trim(),
    namespace: form.namespace.trim(),
    table: form.table.trim(),
    partitioning: list(form.partitioning),
  };
  const schedule: NonNullable<IngestionBody["schedule"]> = {
    cron: form.cron.trim() || null,
    timezone: form.timezone.trim() || "UTC",
  };
  return { source, format, destination, schedule };
}

export function createBody(form: SpecForm): IngestionBody {
  return { name: form.name.trim(), ...parts(form) };
}

export function patchBody(form: SpecForm): IngestionPatch {
  const { source, format, destination } = parts(form);
  return {
    name: form.name.trim(),
    source,
    format,
    destination,
    schedule: { cron: form.cron.trim() || null, timezone: form.timezone.trim() || "UTC" },
  };
}

export function previewBody(form: SpecForm): PreviewBody {
  const { source, format, destination } = parts(form);
  return { source, format, destination, max_files: 10, limit: 20 };
}

export function formOf(ingestion: Ingestion): SpecForm {
  const { source, format, destination, schedule } = ingestion;
  return {
    name: ingestion.name,
    uri: source.uri,
    glob: source.glob ?? "",
    credentialRef: source.credential_ref ?? "",
    minFileAgeSeconds: String(source.min_file_age_seconds ?? 0),
    maxFileAgeSeconds:
      source.max_file_age_seconds === null || source.max_file_age_seconds === undefined
        ? ""
        : String(source.max_file_age_seconds),
    format: format.type,
    options: Object.entries(format.options ?? {})
      .map(([k, v]) => `${k}=${String(v)}`)
      .join("\n"),
    schemaDdl: format.schema_ddl ?? "",
    schemaEvolution: format.schema_evolution ?? "add_new_columns",
    corruptRecords: format.corrupt_records ?? "keep",
    columnNames: format.column_names ?? "keep",
    catalog: destination.catalog,
    namespace: destination.namespace,
    table: destination.table,
    partitioning: (destination.partitioning ?? []).join(", "),
    cron: schedule.cron ?? "",
    timezone: schedule.timezone ?? "UTC",
  };
}

/** Which wizard step shows the field at `path` (from the API's `loc`). */
export function stepOfField(path: string): number {
  if (path === "name" || path.startsWith("source")) return 0;
  if (path.startsWith("format")) return 1;
  if (path.startsWith("destination")) return 2;
  if (path.startsWith("schedule")) return 3;
  return 4;
}
