// The one way the console talks to the API: JSON over fetch with the signed-in key.
// The key lives in sessionStorage only (gone when the tab closes), never in a URL.

const KEY_STORAGE = "autoloader.apiKey";

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** An answer other than 2xx, in words; `fields` maps a field's dotted path to its message. */
export class ApiError extends Error {
  readonly status: number;
  readonly fields: Record<string, string>;

  constructor(status: number, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
  }
}

interface FieldProblem {
  loc?: (string | number)[];
  msg?: string;
}

/** "source.uri" for FastAPI's loc ["body", "source", "uri"]. */
export function fieldPath(loc: (string | number)[]): string {
  const parts = loc[0] === "body" || loc[0] === "query" ? loc.slice(1) : loc;
  return parts.join(".");
}

function explain(status: number, body: unknown): ApiError {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (Array.isArray(detail)) {
    const fields: Record<string, string> = {};
    const lines: string[] = [];
    for (const problem of detail as FieldProblem[]) {
      const path = fieldPath(problem.loc ?? []);
      const msg = problem.msg ?? "is not valid";
      fields[path] = fields[path] ? `${fields[path]}; ${msg}` : msg;
      lines.push(path ? `${path}: ${msg}` : msg);
    }
    return new ApiError(status, lines.join("\n") || `The API answered ${status}.`, fields);
  }
  if (typeof detail === "string" && detail) return new ApiError(status, detail);
  const words: Record<number, string> = {
    401: "The API key was refused.",
    403: "This key may not do that.",
    404: "Not found.",
    429: "Too many requests: try again in a moment.",
    503: "A service the API needs did not answer: try again.",
    504: "The API took too long: try again.",
  };
  return new ApiError(status, words[status] ?? `The API answered ${status}.`);
}

export interface CallOptions {
  method?: "GET" | "POST" | "PATCH" | "DELETE";
  body?: unknown;
  key?: string | null;
  headers?: Record<string, string>;
}

export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const key = options.key === undefined ? storedKey() : options.key;
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, "The API cannot be reached: check the network or the server.");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) throw explain(response.status, body);
  return body as T;
}

/** A query string from the defined values (arrays repeat the name, as the API reads them). */
export function query(params: Record<string, string | number | string[] | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(name, v));
    else search.append(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
