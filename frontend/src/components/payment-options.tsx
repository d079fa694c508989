import { useState } from 'react';

import { BUSY_AUTO_RETRIES, useStartPayment } from '@/api/create-payment-session';
import { useOfferedProviders } from '@/api/get-config';
import { useAnnouncement } from '@/components/announcer';
import { ApiErrorAlert } from '@/components/api-error-alert';
import { Loading } from '@/components/loading';
import type { ProviderEnum } from '@/lib/api/generated';

interface PaymentOptionsProps {
  appointmentId: string;
  /** `card-only` after an HSA/FSA rejection: one click to pay by card instead. */
  variant?: 'both' | 'card-only';
  cardLabel?: string;
}

const busyLabels: Record<ProviderEnum, string> = {
  stripe: 'Opening secure card payment…',
  truemed: 'Opening the HSA/FSA survey…',
};

/**
 * The pay buttons: one for each provider the server offers (`payment_providers` in `/api/config/`). All are
 * disabled while a session is being created (and while the browser leaves), so a double click creates one
 * provider session, not two. Pages that show them wait for the config with their own data (see
 * `useOfferedProviders`), so the buttons appear with the page.
 */
export function PaymentOptions({ appointmentId, variant = 'both', cardLabel = 'Pay by card' }: PaymentOptionsProps) {
  const offered = useOfferedProviders({ retryOnMount: false });
  const { start, isBusy, pendingProvider, busyRetry, error } = useStartPayment(appointmentId);
  const [lastProvider, setLastProvider] = useState<ProviderEnum | null>(null);
  // The countdown is on screen; the live region says it once per retry, not every second.
  useAnnouncement(
    busyRetry
      ? `The payment service is busy. Retrying automatically (attempt ${busyRetry.attempt} of ${BUSY_AUTO_RETRIES}).`
      : pendingProvider
        ? busyLabels[pendingProvider]
        : null,
  );

  if (offered.isPending) return <Loading label="Loading payment options…" />;
  if (offered.isError) return <ApiErrorAlert error={offered.error} onRetry={() => void offered.refetch()} />;

  const shown = offered.data.filter((provider) => variant === 'both' || provider === 'stripe');
  const pay = (provider: ProviderEnum) => {
    setLastProvider(provider);
    start(provider);
  };

  return (
    <div className="pay-options">
      {shown.length === 0 ? (
        <p className="muted">Online payment is not available right now. Please try again later.</p>
      ) : null}
      {shown.includes('stripe') ? (
        <div className="pay-option">
          <button
            type="button"
            className="button button-primary button-block"
            disabled={isBusy}
            aria-describedby="pay-card-note"
            onClick={() => {
              pay('stripe');
            }}
          >
            {pendingProvider === 'stripe' ? busyLabels.stripe : cardLabel}
          </button>
          <p id="pay-card-note" className="muted">
            Credit or debit card, on Stripe&rsquo;s secure checkout page.
          </p>
        </div>
      ) : null}
      {shown.includes('truemed') ? (
        <div className="pay-option">
          <button
            type="button"
            className={`button ${shown.includes('stripe') ? 'button-secondary' : 'button-primary'} button-block`}
            disabled={isBusy}
            aria-describedby="pay-hsa-note"
            onClick={() => {
              pay('truemed');
            }}
          >
            {pendingProvider === 'truemed' ? busyLabels.truemed : 'Pay with HSA / FSA'}
          </button>
          <p id="pay-hsa-note" className="muted">
            You may be able to pay with HSA/FSA funds: our partner Truemed asks a short health survey, and a
            practitioner decides whether you qualify, so eligibility is not guaranteed.
          </p>
        </div>
      ) : null}
      {busyRetry ? (
        <div className="notice notice-info" data-testid="provider-busy">
          <p className="alert-title">The payment service is busy, retrying in {busyRetry.secondsLeft} s</p>
          <p>
            Nothing was charged. Attempt {busyRetry.attempt} of {BUSY_AUTO_RETRIES}; you stay on this page.
          </p>
        </div>
      ) : null}
      {error && !isBusy ? (
        <ApiErrorAlert
          error={error}
          onRetry={
            lastProvider
              ? () => {
                  pay(lastProvider);
                }
              : undefined
          }
        />
      ) : null}
    </div>
  );
}
