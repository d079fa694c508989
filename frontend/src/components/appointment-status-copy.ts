import type { AppointmentStatusEnum } from '@/lib/api/generated';

/**
 * What the SPA says about each appointment status: the one place for this text (checkout, the return page and
 * the cancelled page all read it). HSA/FSA wording follows Truemed's rules: a review is never a promise.
 */
export interface AppointmentStatusCopy {
  /** Names the state: the heading where a page shows it; with a full stop, what the live region says. */
  title: string;
  /** The state in one sentence, on a page that is about something else (the patient left the payment page). */
  sentence: string;
  /** What it means for the patient, under the title; null when the title says it all. */
  detail: string | null;
  /** On the return page the state is the outcome of the payment just made, so some of it is worded for that. */
  afterPayment?: { title?: string; detail?: string };
}

export const appointmentStatusCopy: Record<AppointmentStatusEnum, AppointmentStatusCopy> = {
  pending_payment: {
    title: 'Ready to pay',
    sentence: 'Ready to pay.',
    detail: null,
  },
  payment_processing: {
    title: 'Payment received, under HSA/FSA review',
    sentence: 'Your HSA/FSA payment was received and is under review.',
    detail:
      'A practitioner is reviewing your health survey. If HSA/FSA use is approved, your appointment is confirmed; if ' +
      'not, you can pay by card instead. There is nothing to do now.',
    afterPayment: {
      detail:
        'Truemed received your HSA/FSA payment details and a practitioner is reviewing your health survey. If the ' +
        'review approves HSA/FSA use, your appointment is confirmed; if not, you can pay by card instead. You can ' +
        'keep this page open or come back later.',
    },
  },
  confirmed: {
    title: 'This appointment is already paid and confirmed',
    sentence: 'This appointment is already paid and confirmed.',
    detail: 'There is nothing more to pay.',
    afterPayment: {
      title: 'Your appointment is confirmed',
      detail: 'Your payment was received and your visit is booked.',
    },
  },
  expired: {
    title: 'This booking has expired',
    sentence: 'This booking has expired. Nothing was charged.',
    detail: 'The time was held for a limited period and has been released. Nothing was charged.',
  },
  cancelled: {
    title: 'This appointment was cancelled',
    sentence: 'This appointment was cancelled.',
    detail: null,
    afterPayment: { detail: 'This appointment is no longer booked.' },
  },
};

/** The title of a status as the return page shows it (the outcome of the payment just made). */
export function titleAfterPayment(status: AppointmentStatusEnum): string {
  const copy = appointmentStatusCopy[status];
  return copy.afterPayment?.title ?? copy.title;
}

/** The explanation of a status as the return page shows it. */
export function detailAfterPayment(status: AppointmentStatusEnum): string | null {
  const copy = appointmentStatusCopy[status];
  return copy.afterPayment?.detail ?? copy.detail;
}
