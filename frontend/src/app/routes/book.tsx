import { useNavigate } from '@/lib/router';

import { PageHeading } from '@/components/page-heading';
import { paths } from '@/config/paths';
import { BookingForm } from '@/features/booking/components/booking-form';

export function BookRoute() {
  const navigate = useNavigate();
  return (
    <>
      <PageHeading>Book your appointment</PageHeading>
      <p className="lead">Choose a practitioner, a service and an open time. You will review the price before you pay.</p>
      <BookingForm
        onBooked={(appointment) => {
          navigate(paths.checkout.href(appointment.id));
        }}
      />
    </>
  );
}
