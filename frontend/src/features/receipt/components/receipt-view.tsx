import { ApiErrorAlert } from '@/components/api-error-alert';
import { Loading } from '@/components/loading';
import { paths } from '@/config/paths';
import type { Receipt } from '@/lib/api/generated';
import { isApiError } from '@/lib/api-client';
import { formatDateTime, formatMoney } from '@/lib/format';
import { Link } from '@/lib/router';

import { useReceipt } from '../api/get-receipt';
import './receipt.css';

/**
 * The itemized receipt of a paid visit, as the server issues it (amounts never computed here), laid out to
 * substantiate an HSA/FSA claim and to print: `@media print` (receipt.css) leaves only the receipt, black on white.
 */
export function ReceiptView({ appointmentId }: { appointmentId: string }) {
  const query = useReceipt(appointmentId);
  if (query.isPending) return <Loading label="Loading your receipt…" />;
  if (query.isError) {
    const error = query.error;
    if (isApiError(error) && error.code === 'not_paid') {
      return (
        <div className="notice notice-info" data-testid="receipt-not-paid">
          <h2>No receipt yet</h2>
          <p>A receipt is available once the payment is confirmed. HSA/FSA payments can take a few minutes to be reviewed.</p>
          <p className="no-print">
            <Link to={paths.manage.href(appointmentId)}>Back to your appointment</Link>
          </p>
        </div>
      );
    }
    if (isApiError(error) && error.code === 'not_found') {
      return (
        <div role="alert" className="alert alert-error">
          <p className="alert-title">This link does not open a receipt</p>
          <p>
            It may be incomplete, or it was made for another browser. Open the manage link from your confirmation
            email, then its receipt, or contact the clinic.
          </p>
        </div>
      );
    }
    return <ApiErrorAlert error={error} onRetry={() => void query.refetch()} />;
  }
  return <ReceiptDocument receipt={query.data} appointmentId={appointmentId} />;
}

function ReceiptDocument({ receipt, appointmentId }: { receipt: Receipt; appointmentId: string }) {
  const money = (cents: number) => formatMoney(cents, receipt.currency);
  return (
    <>
      <article className="receipt" aria-labelledby="receipt-title" data-testid="receipt">
        <header className="receipt-header">
          <h2 id="receipt-title">{receipt.clinic_name}</h2>
          <p>
            Receipt <strong data-testid="receipt-number">{receipt.receipt_number}</strong>
          </p>
        </header>
        <dl className="receipt-facts">
          <div>
            <dt>Patient</dt>
            <dd>
              {receipt.patient_name}
              <br />
              {receipt.patient_email}
            </dd>
          </div>
          <div>
            <dt>Practitioner</dt>
            <dd>{receipt.practitioner_name}</dd>
          </div>
          <div>
            <dt>Service</dt>
            <dd>{receipt.service_name}</dd>
          </div>
          <div>
            <dt>Date of service</dt>
            <dd>{formatDateTime(receipt.date_of_service)}</dd>
          </div>
        </dl>
        <table className="receipt-items">
          <caption className="sr-only">Items</caption>
          <thead>
            <tr>
              <th scope="col">Description</th>
              <th scope="col" className="num">
                Qty
              </th>
              <th scope="col" className="num">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {receipt.items.map((item, index) => (
              <tr key={`${String(index)}-${item.description}`}>
                <td>{item.description}</td>
                <td className="num">{item.quantity}</td>
                <td className="num">{money(item.amount_cents)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={2}>
                Total paid
              </th>
              <td className="num" data-testid="receipt-total">
                {money(receipt.amount_cents)}
              </td>
            </tr>
          </tfoot>
        </table>
        <dl className="receipt-facts">
          <div>
            <dt>Payment method</dt>
            <dd>{receipt.payment_method}</dd>
          </div>
          <div>
            <dt>Provider reference</dt>
            <dd>
              <code>{receipt.provider_reference}</code>
            </dd>
          </div>
          <div>
            <dt>Paid at</dt>
            <dd>{formatDateTime(receipt.paid_at)}</dd>
          </div>
          <div>
            <dt>Appointment</dt>
            <dd>
              <code>{receipt.appointment_id}</code>
            </dd>
          </div>
        </dl>
      </article>
      <p className="actions no-print">
        <button
          type="button"
          className="button button-primary"
          onClick={() => {
            window.print();
          }}
        >
          Print receipt
        </button>
        <Link className="button button-secondary" to={paths.manage.href(appointmentId)}>
          Back to your appointment
        </Link>
      </p>
    </>
  );
}
