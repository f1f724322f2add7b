// Create (or change) an ingestion in five steps, with a live preview beside the form.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useCallback, useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { ApiError, call } from "../api/client";
import {
  COLUMN_NAMES,
  CORRUPT_RECORDS,
  FILE_FORMATS,
  type Ingestion,
  type RunAccepted,
  SCHEMA_EVOLUTIONS,
} from "../api/types";
import { ErrorBox, Loading } from "../parts/common";
import { Field, type FieldControl } from "../parts/Field";
import { useSession } from "../session";
import { nextRuns, schedule } from "../words";
import { PreviewPanel, usePreview } from "./Preview";
import {
  createBody,
  EMPTY_FORM,
  formOf,
  patchBody,
  previewBody,
  type SpecForm,
  stepOfField,
} from "./spec_form";

const STEPS = ["Source", "Format", "Destination", "Schedule", "Review"];

const PRESETS: { label: string; cron: string }[] = [
  { label: "Manual only", cron: "" },
  { label: "Every 5 minutes", cron: "*/5 * * * *" },
  { label: "Every 15 minutes", cron: "*/15 * * * *" },
  { label: "Hourly", cron: "0 * * * *" },
  { label: "Daily at 02:00", cron: "0 2 * * *" },
];

export function Wizard() {
  const { id } = useParams();
  const existing = useQuery({
    queryKey: ["ingestion", id],
    queryFn: () => call<Ingestion>(`/api/v1/ingestions/${id}`),
    enabled: Boolean(id),
  });
  if (id && existing.isPending) return <Loading what="the ingestion" />;
  if (id && existing.error) return <ErrorBox error={existing.error} />;
  return <WizardForm key={id ?? "new"} existing={existing.data ?? null} />;
}

function WizardForm({ existing }: { existing: Ingestion | null }) {
  const { canWrite } = useSession();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [form, setForm] = useState<SpecForm>(existing ? formOf(existing) : EMPTY_FORM);
  const [step, setStep] = useState(0);
  const [saveErrors, setSaveErrors] = useState<Record<string, string>>({});
  const [previewErrors, setPreviewErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<Ingestion | null>(null);
  const errors = useMemo(() => ({ ...previewErrors, ...saveErrors }), [previewErrors, saveErrors]);

  const set = <K extends keyof SpecForm>(name: K, value: SpecForm[K]) =>
    setForm((f) => ({ ...f, [name]: value }));
  const preview = usePreview(
    previewBody(form),
    useCallback((fields: Record<string, string>) => setPreviewErrors(fields), []),
  );

  const save = useMutation({
    mutationFn: () =>
      existing
        ? call<Ingestion>(`/api/v1/ingestions/${existing.id}`, {
            method: "PATCH",
            body: patchBody(form),
            headers: { "If-Match": `"${existing.version}"` },
          })
        : call<Ingestion>("/api/v1/ingestions", { method: "POST", body: createBody(form) }),
    onSuccess: (ingestion) => {
      setSaveErrors({});
      setSaved(ingestion);
      void queries.invalidateQueries({ queryKey: ["ingestions"] });
      queries.setQueryData(["ingestion", ingestion.id], ingestion);
    },
    onError: (error) => {
      const fields = error instanceof ApiError ? error.fields : {};
      setSaveErrors(fields);
      // A field the API named leads to its step.
      const first = Object.keys(fields)[0];
      if (first !== undefined) setStep(stepOfField(first));
    },
  });
  const runNow = useMutation({
    mutationFn: (ingestionId: string) =>
      call<RunAccepted>(`/api/v1/ingestions/${ingestionId}/run`, { method: "POST" }),
    onSuccess: (run) => navigate(`/runs/${run.run_id}`),
  });

  if (!canWrite) return <ErrorBox error={new Error("This key may only read: it cannot create or change ingestions.")} />;

  const stepErrors = (index: number) => Object.keys(errors).some((p) => stepOfField(p) === index);

  return (
    <section>
      <div className="title-row">
        <h1>{existing ? `Change ${existing.name}` : "New ingestion"}</h1>
      </div>
      <ol className="steps">
        {STEPS.map((label, index) => (
          <li key={label}>
            <button
              type="button"
              className={`${index === step ? "current" : ""}${stepErrors(index) ? " invalid" : ""}`}
              onClick={() => setStep(index)}
              aria-current={index === step ? "step" : undefined}
            >
              {index + 1}. {label}
            </button>
          </li>
        ))}
      </ol>
      <div className="wizard">
        <form
          className="form"
          onSubmit={(event) => {
            event.preventDefault();
            if (step < STEPS.length - 1) setStep(step + 1);
            else save.mutate();
          }}
        >
          {step === 0 ? <SourceStep form={form} set={set} errors={errors} /> : null}
          {step === 1 ? <FormatStep form={form} set={set} errors={errors} /> : null}
          {step === 2 ? <DestinationStep form={form} set={set} errors={errors} /> : null}
          {step === 3 ? <ScheduleStep form={form} set={set} errors={errors} /> : null}
          {step === 4 ? <Review form={form} existing={existing} /> : null}
          <ErrorBox error={save.error} />
          {saved ? (
            <div className="notice" role="status">
              Saved <Link to={`/ingestions/${saved.id}`}>{saved.name}</Link>.{" "}
              <button type="button" className="primary" onClick={() => runNow.mutate(saved.id)} disabled={runNow.isPending}>
                Run now
              </button>
              <ErrorBox error={runNow.error} />
            </div>
          ) : null}
          <div className="actions">
            <button type="button" onClick={() => setStep(step - 1)} disabled={step === 0}>
              Back
            </button>
            {step < STEPS.length - 1 ? (
              <button type="submit" className="primary">
                Next
              </button>
            ) : (
              <button type="submit" className="primary" disabled={save.isPending}>
                {save.isPending ? "Saving…" : existing ? "Save changes" : "Create ingestion"}
              </button>
            )}
          </div>
        </form>
        <PreviewPanel preview={preview} />
      </div>
    </section>
  );
}

interface StepProps {
  form: SpecForm;
  set: <K extends keyof SpecForm>(name: K, value: SpecForm[K]) => void;
  errors: Record<string, string>;
}

type TextProps = StepProps &
  FieldControl & {
    name: keyof SpecForm;
    placeholder?: string;
    inputMode?: "numeric";
  };

function Text({ form, set, name, placeholder, inputMode, ...aria }: TextProps) {
  return (
    <input
      name={name}
      value={String(form[name])}
      onChange={(e) => set(name, e.target.value as never)}
      placeholder={placeholder}
      inputMode={inputMode}
      aria-label={aria["aria-label"]}
      aria-invalid={aria["aria-invalid"]}
    />
  );
}

interface ChoiceProps<T> extends FieldControl {
  value: T;
  options: T[];
  onChange: (v: T) => void;
  name: string;
}

function Choice<T extends string>({ value, options, onChange, name, ...aria }: ChoiceProps<T>) {
  return (
    <select name={name} value={value} onChange={(e) => onChange(e.target.value as T)} {...aria}>
      {options.map((option) => (
        <option key={option} value={option}>
          {option}
        </option>
      ))}
    </select>
  );
}

function Step({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset>
      <legend>{title}</legend>
      {children}
    </fieldset>
  );
}

function SourceStep(props: StepProps) {
  const { errors } = props;
  return (
    <Step title="Where the files arrive">
      <Field label="Name" path="name" errors={errors} hint="Unique in your tenant, e.g. orders-eu.">
        <Text {...props} name="name" placeholder="orders" />
      </Field>
      <Field label="Source URI" path="source.uri" errors={errors} hint="s3://, abfss://, gs:// or file:// and a folder.">
        <Text {...props} name="uri" placeholder="s3://landing/orders/" />
      </Field>
      <Field label="File glob" path="source.glob" errors={errors} hint="Which files under the URI, e.g. *.csv or 2026/**/*.json.">
        <Text {...props} name="glob" placeholder="*.csv" />
      </Field>
      <Field label="Credential reference" path="source.credential_ref" errors={errors} hint="A reference your tenant was granted, e.g. env:LANDING_S3 (never the secret itself).">
        <Text {...props} name="credentialRef" placeholder="env:LANDING_S3" />
      </Field>
      <div className="row">
        <Field label="Minimum file age (s)" path="source.min_file_age_seconds" errors={errors} hint="Skip files still being written.">
          <Text {...props} name="minFileAgeSeconds" inputMode="numeric" />
        </Field>
        <Field label="Maximum file age (s)" path="source.max_file_age_seconds" errors={errors} hint="Empty: no limit.">
          <Text {...props} name="maxFileAgeSeconds" inputMode="numeric" />
        </Field>
      </div>
    </Step>
  );
}

function FormatStep(props: StepProps) {
  const { form, set, errors } = props;
  return (
    <Step title="How to read them">
      <Field label="Format" path="format.type" errors={errors}>
        <Choice name="format" value={form.format} options={FILE_FORMATS} onChange={(v) => set("format", v)} />
      </Field>
      <Field label="Reader options" path="format.options" errors={errors} hint="One name=value per line, e.g. header=true, delimiter=;">
        <textarea name="options" rows={3} value={form.options} onChange={(e) => set("options", e.target.value)} />
      </Field>
      <Field label="Schema (DDL)" path="format.schema_ddl" errors={errors} hint="Empty: inferred from the files (see the preview).">
        <textarea name="schemaDdl" rows={3} placeholder="id BIGINT, name STRING, amount DOUBLE" value={form.schemaDdl} onChange={(e) => set("schemaDdl", e.target.value)} />
      </Field>
      <div className="row">
        <Field label="New columns" path="format.schema_evolution" errors={errors}>
          <Choice name="schemaEvolution" value={form.schemaEvolution} options={SCHEMA_EVOLUTIONS} onChange={(v) => set("schemaEvolution", v)} />
        </Field>
        <Field label="Corrupt records" path="format.corrupt_records" errors={errors} hint="fail: the file fails with the parser's reason.">
          <Choice name="corruptRecords" value={form.corruptRecords} options={CORRUPT_RECORDS} onChange={(v) => set("corruptRecords", v)} />
        </Field>
        <Field label="Column names" path="format.column_names" errors={errors}>
          <Choice name="columnNames" value={form.columnNames} options={COLUMN_NAMES} onChange={(v) => set("columnNames", v)} />
        </Field>
      </div>
    </Step>
  );
}

function DestinationStep(props: StepProps) {
  const { errors } = props;
  return (
    <Step title="Which Iceberg table">
      <div className="row">
        <Field label="Catalog" path="destination.catalog" errors={errors}>
          <Text {...props} name="catalog" />
        </Field>
        <Field label="Namespace" path="destination.namespace" errors={errors}>
          <Text {...props} name="namespace" placeholder="sales" />
        </Field>
        <Field label="Table" path="destination.table" errors={errors}>
          <Text {...props} name="table" placeholder="orders" />
        </Field>
      </div>
      <Field label="Partitioning" path="destination.partitioning" errors={errors} hint="Comma-separated Iceberg transforms, e.g. days(ordered_at), bucket(16, id).">
        <Text {...props} name="partitioning" />
      </Field>
    </Step>
  );
}

function ScheduleStep(props: StepProps) {
  const { form, set, errors } = props;
  const upcoming = form.cron.trim() ? nextRuns(form.cron.trim(), form.timezone) : null;
  const preset = PRESETS.find((p) => p.cron === form.cron.trim())?.cron ?? "custom";
  return (
    <Step title="When to run">
      <Field label="Preset" path="schedule.preset" errors={errors}>
        <select name="preset" value={preset} onChange={(e) => e.target.value !== "custom" && set("cron", e.target.value)}>
          {PRESETS.map((p) => (
            <option key={p.label} value={p.cron}>
              {p.label}
            </option>
          ))}
          <option value="custom">Custom cron</option>
        </select>
      </Field>
      <div className="row">
        <Field label="Cron" path="schedule.cron" errors={errors} hint="Five fields: minute hour day month weekday.">
          <Text {...props} name="cron" placeholder="*/15 * * * *" />
        </Field>
        <Field label="Time zone" path="schedule.timezone" errors={errors} hint="An IANA name, e.g. Europe/Paris.">
          <Text {...props} name="timezone" />
        </Field>
      </div>
      <p data-testid="schedule-words">
        <strong>{schedule(form.cron.trim(), form.timezone)}</strong>
      </p>
      {Array.isArray(upcoming) ? (
        <div>
          <span className="label">Next five runs</span>
          <ol className="upcoming">
            {upcoming.map((date) => (
              <li key={date.toISOString()}>
                {date.toLocaleString("en-GB", { timeZone: form.timezone || "UTC", dateStyle: "medium", timeStyle: "short" })} ({form.timezone || "UTC"})
              </li>
            ))}
          </ol>
        </div>
      ) : upcoming ? (
        <p className="field-error">{upcoming}</p>
      ) : null}
    </Step>
  );
}

function Review({ form, existing }: { form: SpecForm; existing: Ingestion | null }) {
  return (
    <Step title={existing ? "Review the change" : "Review"}>
      <p>
        {existing ? "Saving changes" : "Creating"} <strong>{form.name || "(no name)"}</strong>: files matching{" "}
        <code>{form.glob || "*"}</code> under <code>{form.uri || "?"}</code> load as {form.format} into{" "}
        <code>
          {form.catalog}.{form.namespace}.{form.table}
        </code>
        , {schedule(form.cron.trim(), form.timezone)}.
      </p>
      <pre className="spec">{JSON.stringify(existing ? patchBody(form) : createBody(form), null, 2)}</pre>
    </Step>
  );
}
