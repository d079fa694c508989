import {
  createContext,
  useCallback,
  useContext,
  useMemo,
  useSyncExternalStore,
  type AnchorHTMLAttributes,
  type MouseEvent,
  type ReactNode,
} from 'react';

/**
 * A router of about 1 KB gzip instead of react-router's 30 (docs/frontend.md, "Bundle budget"): the SPA has a
 * handful of flat routes, path parameters and query strings, and needs nothing else (no loaders, no nested
 * data). Routes are matched in order; each route element is usually `lazy()` so its code loads on first visit.
 */

export interface Location {
  pathname: string;
  search: string;
  hash: string;
}

/** Where the location comes from: the browser's history, or an in-memory one for tests. */
export interface History {
  location: () => Location;
  push: (to: string, options?: { replace?: boolean }) => void;
  subscribe: (listener: () => void) => () => void;
}

function parseUrl(url: string): Location {
  const parsed = new URL(url, 'http://localhost');
  return { pathname: parsed.pathname, search: parsed.search, hash: parsed.hash };
}

/** The browser's address bar. `location()` returns the same object until the URL changes (for useSyncExternalStore). */
export function createBrowserHistory(): History {
  const listeners = new Set<() => void>();
  let current = parseUrl(window.location.href);
  const refresh = () => {
    const next = parseUrl(window.location.href);
    if (next.pathname !== current.pathname || next.search !== current.search || next.hash !== current.hash) {
      current = next;
    }
    listeners.forEach((listener) => {
      listener();
    });
  };
  window.addEventListener('popstate', refresh);
  return {
    location: () => current,
    push: (to, options = {}) => {
      if (options.replace) window.history.replaceState(null, '', to);
      else window.history.pushState(null, '', to);
      refresh();
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** For tests: the same interface, no address bar. `entries` records every visited URL. */
export function createMemoryHistory(initial: string): History & { entries: Location[] } {
  const listeners = new Set<() => void>();
  const entries = [parseUrl(initial)];
  return {
    entries,
    location: () => entries[entries.length - 1] ?? parseUrl('/'),
    push: (to, options = {}) => {
      if (options.replace) entries.pop();
      entries.push(parseUrl(to));
      listeners.forEach((listener) => {
        listener();
      });
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export interface Route {
  /** `/appointments/:appointmentId/checkout`; `*` matches anything (put it last). */
  path: string;
  element: ReactNode;
}

interface RouterState {
  history: History;
  location: Location;
  params: Record<string, string>;
}

const RouterContext = createContext<RouterState | null>(null);

/** `:name` segments become named groups; every other character is literal. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  if (pattern === '*') return {};
  const names: string[] = [];
  const source = pattern
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        names.push(segment.slice(1));
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  const match = new RegExp(`^${source}/?$`).exec(pathname);
  if (!match) return null;
  const params: Record<string, string> = {};
  names.forEach((name, index) => {
    const value = match[index + 1] ?? '';
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      params[name] = value;
    }
  });
  return params;
}

function findRoute(routes: readonly Route[], pathname: string): { element: ReactNode; params: Record<string, string> } {
  for (const route of routes) {
    const params = matchPath(route.path, pathname);
    if (params) return { element: route.element, params };
  }
  return { element: null, params: {} };
}

/** Renders the first route whose path matches, inside `layout` (which places `children`). */
export function Router({
  history,
  routes,
  layout: Layout,
}: {
  history: History;
  routes: readonly Route[];
  layout: (props: { children: ReactNode }) => ReactNode;
}) {
  const location = useSyncExternalStore(history.subscribe, history.location, history.location);
  const { pathname } = location;
  const matched = useMemo(() => findRoute(routes, pathname), [routes, pathname]);
  const state = useMemo(() => ({ history, location, params: matched.params }), [history, location, matched]);
  return (
    <RouterContext value={state}>
      <Layout>{matched.element}</Layout>
    </RouterContext>
  );
}

function useRouter(): RouterState {
  const state = useContext(RouterContext);
  if (!state) throw new Error('Router hooks need a <Router> above them');
  return state;
}

export function useLocation(): Location {
  return useRouter().location;
}

export function useParams(): Record<string, string | undefined> {
  return useRouter().params;
}

export function useSearchParams(): URLSearchParams {
  const { search } = useRouter().location;
  return useMemo(() => new URLSearchParams(search), [search]);
}

export function useNavigate(): (to: string, options?: { replace?: boolean }) => void {
  const { history } = useRouter();
  return useCallback(
    (to: string, options?: { replace?: boolean }) => {
      history.push(to, options);
    },
    [history],
  );
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string };

/** An ordinary link (open in a new tab works) that navigates in place on a plain left click. */
export function Link({ to, onClick, children, ...rest }: LinkProps) {
  const navigate = useNavigate();
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (rest.target && rest.target !== '_self') return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={handleClick} {...rest}>
      {children}
    </a>
  );
}
