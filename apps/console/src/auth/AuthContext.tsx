import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import * as client from '../api/client';
import type { Session, User } from './session';

interface Auth {
  user: User | null;
  signIn: (username: string, password: string) => Promise<Session>;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<Auth>({
  user: null,
  signIn: () => Promise.reject(new Error('no auth provider')),
  signOut: () => Promise.resolve(),
});

export function AuthProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(client.currentSession());
  useEffect(() => client.onSessionChange(setSession), []);
  useEffect(() => client.startRefreshTimer(), []);
  const value = useMemo<Auth>(() => ({ user: session?.user ?? null, signIn: client.login, signOut: client.logout }), [session]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export const useAuth = (): Auth => useContext(AuthContext);
