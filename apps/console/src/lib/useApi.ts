import { useCallback, useEffect, useRef, useState } from 'react';

export interface ApiState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again now (keeps the old data on screen meanwhile). */
  reload: () => void;
  /** When the data last arrived. */
  at: Date | null;
}

/**
 * Loads `fetcher()` when `key` changes and, with `pollMs`, again on that interval while the tab is
 * visible. A newer answer always wins over a slower older one.
 */
export function useApi<T>(fetcher: (() => Promise<T>) | null, key: string, pollMs?: number): ApiState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean; at: Date | null }>({
    data: undefined,
    error: undefined,
    loading: !!fetcher,
    at: null,
  });
  const seq = useRef(0);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;

  const load = useCallback(() => {
    const f = fetcherRef.current;
    if (!f) return;
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    f().then(
      (data) => mine === seq.current && setState({ data, error: undefined, loading: false, at: new Date() }),
      (error: unknown) => mine === seq.current && setState((s) => ({ ...s, error, loading: false })),
    );
  }, []);

  useEffect(() => {
    setState({ data: undefined, error: undefined, loading: !!fetcherRef.current, at: null });
    load();
    if (!pollMs) return undefined;
    const timer = setInterval(() => {
      if (typeof document === 'undefined' || document.visibilityState === 'visible') load();
    }, pollMs);
    return () => clearInterval(timer);
  }, [key, pollMs, load]);

  return { ...state, reload: load };
}
