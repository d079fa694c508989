import { PageHeading } from '@/components/page-heading';
import { ReceiptView } from '@/features/receipt/components/receipt-view';
import { useParams } from '@/lib/router';

export default function ReceiptRoute() {
  const { appointmentId = '' } = useParams();
  return (
    <>
      <PageHeading>Receipt</PageHeading>
      <ReceiptView key={appointmentId} appointmentId={appointmentId} />
    </>
  );
}
