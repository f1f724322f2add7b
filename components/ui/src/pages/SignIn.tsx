import { type FormEvent, useState } from "react";
import { ErrorBox } from "../parts/common";

interface SignInProps {
  onKey: (key: string) => void;
  refused: unknown;
}

export function SignIn({ onKey, refused }: SignInProps) {
  const [key, setKey] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const given = key.trim();
    if (given) onKey(given);
  };
  return (
    <main className="sign-in">
      <h1>Autoloader</h1>
      <p>Sign in with an API key of your tenant. It is kept in this tab only.</p>
      <form onSubmit={submit}>
        <label>
          <span className="label">API key</span>
          <input
            type="password"
            name="api-key"
            autoComplete="off"
            placeholder="al_…"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            autoFocus
          />
        </label>
        <button type="submit" className="primary" disabled={!key.trim()}>
          Sign in
        </button>
      </form>
      <ErrorBox error={refused} />
    </main>
  );
}
