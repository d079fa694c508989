import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { AppProvider } from '@/app/provider';
import { AppRouter } from '@/app/router';
import { createQueryClient } from '@/lib/query-client';
import { createMemoryHistory } from '@/lib/router';

/** Renders the whole app (real routes, providers and live region) at `url`; `history.location()` is where it is now. */
export function renderApp(url: string) {
  const history = createMemoryHistory(url);
  const queryClient = createQueryClient({ queries: { retry: false } });
  const user = userEvent.setup();
  const result = render(
    <AppProvider queryClient={queryClient}>
      <AppRouter history={history} />
    </AppProvider>,
  );
  return { ...result, user, history, queryClient };
}

export * from '@testing-library/react';
