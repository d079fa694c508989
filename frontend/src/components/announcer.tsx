import { createContext, useCallback, useContext, useLayoutEffect, useMemo, useState, type ReactNode } from 'react';

interface AnnouncerValue {
  announce: (message: string) => void;
}

const AnnouncerContext = createContext<AnnouncerValue | null>(null);

/**
 * One polite live region, in the DOM from the first render (a region added together with its text is
 * often not read out). Pages announce status changes through `useAnnouncement`.
 */
export function AnnouncerProvider({ children }: { children: ReactNode }) {
  const [message, setMessage] = useState('');
  const announce = useCallback((next: string) => {
    setMessage(next);
  }, []);
  const value = useMemo(() => ({ announce }), [announce]);
  return (
    <AnnouncerContext value={value}>
      {children}
      <div role="status" aria-live="polite" aria-atomic="true" className="sr-only" data-testid="live-region">
        {message}
      </div>
    </AnnouncerContext>
  );
}

export function useAnnounce(): (message: string) => void {
  const value = useContext(AnnouncerContext);
  if (!value) throw new Error('useAnnounce must be used inside <AnnouncerProvider>');
  return value.announce;
}

/**
 * Announces `message` whenever it changes (nothing for null or ''). A layout effect, so the live region
 * changes in the same paint as the page that caused it (a passive effect could land a frame later).
 */
export function useAnnouncement(message: string | null | undefined): void {
  const announce = useAnnounce();
  useLayoutEffect(() => {
    if (message) announce(message);
  }, [announce, message]);
}
