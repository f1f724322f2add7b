// Names for the API's models, generated from its OpenAPI (src/api/schema.d.ts, `npm run types`).
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Identity = Schemas["Identity"];
export type Ingestion = Schemas["IngestionOut"];
export type IngestionSpec = Schemas["IngestionSpec"];
export type IngestionPatch = Schemas["IngestionPatch"];
export type SourceSpec = Schemas["SourceSpec"];
export type FormatSpec = Schemas["FormatSpec"];
export type DestinationSpec = Schemas["DestinationSpec"];
export type PreviewSpec = Schemas["PreviewSpec"];
export type Preview = Schemas["PreviewOut"];
export type Run = Schemas["RunOut"];
export type RunAccepted = Schemas["RunAccepted"];
export type LogLine = Schemas["LogOut"];
export type LedgerFile = Schemas["FileOut"];
export type Reprocessed = Schemas["ReprocessOut"];
export type Refreshed = Schemas["RefreshOut"];
export type SchemaVersion = Schemas["SchemaVersionOut"];
export type FileStatus = Schemas["FileStatus"];
export type FileFormat = Schemas["FileFormat"];
export type SchemaEvolution = Schemas["SchemaEvolution"];
export type CorruptRecords = Schemas["CorruptRecords"];
export type ColumnNames = Schemas["ColumnNames"];
export type IngestionStatus = Schemas["IngestionStatus"];
export type RunStateType = Schemas["StateType"];

/** Every run state but SCHEDULED: the runs that happened or are happening. A frequent schedule
 * keeps many runs scheduled ahead, and the API lists those first. */
export const RAN_STATES: RunStateType[] = [
  "PENDING",
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "CRASHED",
  "PAUSED",
  "CANCELLING",
];

export type ScheduleSpec = Schemas["ScheduleSpec"];

// Request bodies: the API's models list defaulted fields as present; a request may leave them out.
export interface IngestionBody {
  name: string;
  source: Partial<SourceSpec> & Pick<SourceSpec, "uri">;
  format: Partial<FormatSpec> & Pick<FormatSpec, "type">;
  destination: Partial<DestinationSpec> & Pick<DestinationSpec, "catalog" | "namespace" | "table">;
  schedule?: Partial<ScheduleSpec>;
}
export type PreviewBody = Omit<IngestionBody, "name" | "schedule"> &
  Partial<Pick<PreviewSpec, "max_files" | "limit">>;

export interface Page<T> {
  items: T[];
  pagination: { limit: number; offset: number; total?: number | null };
}

// The choices a form offers; typed by the API's enums, so a value it drops fails the build.
export const FILE_FORMATS: FileFormat[] = ["csv", "json", "parquet", "avro", "orc", "text"];
export const FILE_STATUSES: FileStatus[] = ["discovered", "claimed", "loaded", "failed", "skipped"];
export const SCHEMA_EVOLUTIONS: SchemaEvolution[] = [
  "add_new_columns",
  "rescue",
  "fail_on_new_columns",
  "ignore",
];
export const CORRUPT_RECORDS: CorruptRecords[] = ["keep", "drop", "fail"];
export const COLUMN_NAMES: ColumnNames[] = ["keep", "snake_case"];
