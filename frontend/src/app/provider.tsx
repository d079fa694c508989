import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';

import { AnnouncerProvider } from '@/components/announcer';
import { ErrorBoundary } from '@/components/error-boundary';
import { createQueryClient } from '@/lib/query-client';

export function AppProvider({ children, queryClient }: { children: ReactNode; queryClient?: QueryClient }) {
  const [client] = useState(() => queryClient ?? createQueryClient());
  return (
    <ErrorBoundary>
      <QueryClientProvider client={client}>
        <AnnouncerProvider>{children}</AnnouncerProvider>
      </QueryClientProvider>
    </ErrorBoundary>
  );
}
