import type { ReactNode } from 'react';

import { Link } from '@/lib/router';

export function Layout({ children }: { children: ReactNode }) {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="container header-inner">
          <Link className="brand" to="/">
            <span className="brand-mark" aria-hidden="true">
              S
            </span>
            Sofia Health
          </Link>
          <span className="secure-note">Secure checkout</span>
        </div>
      </header>
      <main id="main" className="container">
        <div className="card">
          {children}
        </div>
      </main>
      <footer className="site-footer container">
        <p>Payments are processed by Stripe (card) and Truemed (HSA/FSA). We never see your card number.</p>
      </footer>
    </>
  );
}
