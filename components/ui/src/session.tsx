// Who is signed in: the key's identity (tenant, scopes) as /api/v1/whoami answers it.
import { createContext, useContext } from "react";
import type { Identity } from "./api/types";

export interface Session {
  identity: Identity;
  canWrite: boolean;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}
