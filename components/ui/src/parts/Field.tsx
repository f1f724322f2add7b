// A labelled form control that shows the API's message for its field (422 `loc`).
import { cloneElement, isValidElement, type ReactNode } from "react";

/** What Field hands its control: its accessible name and whether the API refused its value. */
export interface FieldControl {
  "aria-label"?: string;
  "aria-invalid"?: boolean;
}

interface FieldProps {
  label: string;
  path: string;
  errors: Record<string, string>;
  hint?: ReactNode;
  children: ReactNode;
}

export function Field({ label, path, errors, hint, children }: FieldProps) {
  const error = errors[path];
  // The control's name is the label alone (a wrapped <select> would add its options' text).
  const control = isValidElement<FieldControl>(children)
    ? cloneElement(children, { "aria-label": label, "aria-invalid": Boolean(error) })
    : children;
  return (
    <div className={`field${error ? " invalid" : ""}`} data-field={path}>
      <label>
        <span className="label">{label}</span>
        {control}
      </label>
      {hint && !error ? <small className="hint">{hint}</small> : null}
      {error ? (
        <small className="field-error" role="alert">
          {error}
        </small>
      ) : null}
    </div>
  );
}
