import { paths } from '@/config/paths';
import { isApiError } from '@/lib/api-client';
import { Link } from '@/lib/router';

/** What to tell a patient about a failed call; the server's message is used where it is meant for people. */
export function describeError(error: unknown): { title: string; detail: string; retryable: boolean } {
  if (!isApiError(error)) {
    return { title: 'Something went wrong', detail: 'Please try again.', retryable: true };
  }
  switch (error.code) {
    case 'network_error':
      return {
        title: 'We could not reach the server',
        detail: 'Check your internet connection and try again.',
        retryable: true,
      };
    case 'provider_unavailable':
    case 'provider_error':
      return {
        title: 'The payment service is not responding',
        detail: 'Nothing was charged. Please try again in a moment.',
        retryable: true,
      };
    case 'provider_busy':
      return {
        title: 'The payment service is busy',
        detail: 'Nothing was charged and no second payment was started. Please try again in a moment.',
        retryable: true,
      };
    case 'throttled':
      return {
        title: 'Too many attempts',
        detail:
          error.retryAfter !== null
            ? `Please wait about ${error.retryAfter} seconds, then try again.`
            : 'Please wait a moment, then try again.',
        retryable: false,
      };
    case 'not_found':
      return {
        title: 'We could not find this appointment',
        detail: 'The link may be incomplete or out of date.',
        retryable: false,
      };
    case 'invalid_response':
      return { title: 'Something went wrong', detail: error.message, retryable: true };
    default:
      return { title: 'Something went wrong', detail: error.message || 'Please try again.', retryable: true };
  }
}

interface ApiErrorAlertProps {
  error: unknown;
  onRetry?: () => void;
  retryLabel?: string;
}

/** An error message that never leaves a blank page: a title, what to do, and a Retry button when it helps. */
export function ApiErrorAlert({ error, onRetry, retryLabel = 'Retry' }: ApiErrorAlertProps) {
  const { title, detail, retryable } = describeError(error);
  return (
    <div role="alert" className="alert alert-error">
      <p className="alert-title">{title}</p>
      <p>{detail}</p>
      {onRetry && retryable ? (
        <button type="button" className="button button-secondary" onClick={onRetry}>
          {retryLabel}
        </button>
      ) : null}
    </div>
  );
}

/** An appointment that failed to load: the error, and a way to book again when it does not exist. */
export function AppointmentLoadError({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const notFound = isApiError(error) && error.code === 'not_found';
  return (
    <>
      <ApiErrorAlert error={error} onRetry={onRetry} />
      {notFound ? (
        <p>
          <Link to={paths.book.href()}>Book an appointment</Link>
        </p>
      ) : null}
    </>
  );
}
