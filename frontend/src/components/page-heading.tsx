import { useLayoutEffect, useRef, type ReactNode } from 'react';

/**
 * The page's h1. It takes focus when the page mounts, so after a client-side navigation a keyboard or
 * screen-reader user starts at the top of the new page instead of on a button that no longer exists.
 * A layout effect: focus moves in the same frame the page appears (Preact runs plain effects after paint).
 */
export function PageHeading({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useLayoutEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1} className="page-heading">
      {children}
    </h1>
  );
}
