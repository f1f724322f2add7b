import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, NavLink, Route, Routes } from "react-router-dom";
import { call, storedKey, storeKey } from "./api/client";
import type { Identity } from "./api/types";
import { ErrorBox, Loading } from "./parts/common";
import { IngestionDetail } from "./pages/IngestionDetail";
import { Ingestions } from "./pages/Ingestions";
import { RunDetail } from "./pages/RunDetail";
import { SignIn } from "./pages/SignIn";
import { Wizard } from "./pages/Wizard";
import { type Session, SessionContext } from "./session";

export function App() {
  const [key, setKey] = useState<string | null>(storedKey());
  const queries = useQueryClient();
  const identity = useQuery({
    queryKey: ["whoami", key],
    queryFn: () => call<Identity>("/api/v1/whoami", { key }),
    enabled: key !== null,
    staleTime: 60_000,
  });

  useEffect(() => {
    // A refused key is not kept for the next visit.
    if (identity.isError) storeKey(null);
  }, [identity.isError]);

  const session = useMemo<Session | null>(() => {
    if (!identity.data) return null;
    const scopes = identity.data.scopes;
    return {
      identity: identity.data,
      canWrite: scopes.includes("write") || scopes.includes("admin"),
      signOut: () => {
        storeKey(null);
        queries.clear();
        setKey(null);
      },
    };
  }, [identity.data, queries]);

  const signIn = (given: string) => {
    storeKey(given);
    setKey(given);
  };

  if (key === null || identity.isError) {
    return (
      <SignIn onKey={signIn} refused={identity.isError ? identity.error : null} />
    );
  }
  if (!session) return <Loading what="your session" />;

  return (
    <SessionContext.Provider value={session}>
      <header className="top">
        <Link to="/" className="brand">
          Autoloader
        </Link>
        <nav>
          <NavLink to="/" end>
            Ingestions
          </NavLink>
          {session.canWrite ? <NavLink to="/new">New ingestion</NavLink> : null}
        </nav>
        <div className="who" data-testid="who">
          <span title="tenant">
            Tenant <code>{session.identity.tenant_id}</code>
          </span>
          <span title="the key's scopes" className="scopes">
            key {session.identity.key_name} · scopes {session.identity.scopes.join(", ")}
          </span>
          <button type="button" className="link" onClick={session.signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        <Routes>
          <Route path="/" element={<Ingestions />} />
          <Route path="/new" element={<Wizard />} />
          <Route path="/ingestions/:id" element={<IngestionDetail />} />
          <Route path="/ingestions/:id/edit" element={<Wizard />} />
          <Route path="/runs/:id" element={<RunDetail />} />
          <Route path="*" element={<ErrorBox error={new Error("No such page.")} />} />
        </Routes>
      </main>
    </SessionContext.Provider>
  );
}
