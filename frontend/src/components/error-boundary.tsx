import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  children: ReactNode;
}

interface State {
  error: Error | null;
}

/** Last line of defence for render errors: a page with a way out, never a blank screen. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('Render error', error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error) {
      return <ErrorFallback />;
    }
    return this.props.children;
  }
}

export function ErrorFallback() {
  return (
    <main className="container" id="main">
      <section className="card">
        <h1 className="page-heading" tabIndex={-1}>
          Something went wrong
        </h1>
        <p>This page could not be shown. Nothing was charged by this error.</p>
        <p className="actions">
          <button type="button" className="button button-primary" onClick={() => { window.location.reload(); }}>
            Reload the page
          </button>
          <a className="button button-secondary" href="/">
            Start over
          </a>
        </p>
      </section>
    </main>
  );
}
