import { useState } from 'react';

import { AppProvider } from '@/app/provider';
import { AppRouter, createBrowserHistory } from '@/app/router';

export function App() {
  const [history] = useState(createBrowserHistory);
  return (
    <AppProvider>
      <AppRouter history={history} />
    </AppProvider>
  );
}
