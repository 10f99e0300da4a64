import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

const client = new QueryClient({
  defaultOptions: {
    // Live events keep the cache current; a refetch on focus covers anything the socket could not say.
    queries: { staleTime: 30_000, retry: (n, err) => n < 2 && (err as { status?: number }).status !== 404 },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
