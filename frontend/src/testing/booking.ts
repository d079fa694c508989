import type { UserEvent } from '@testing-library/user-event';

import { screen, within } from '@testing-library/react';

/** Chooses practitioner and service on the book page (by their labels, as a patient would). */
export async function chooseService(user: UserEvent, practitioner = 'Dr. Ana Reyes', service = 'initial_consultation') {
  await user.selectOptions(await screen.findByLabelText('Practitioner'), practitioner);
  await user.selectOptions(screen.getByLabelText('Service'), service);
}

/** Picks the `day`-th open day and its `time`-th open time in the slot picker; returns the time's ISO value. */
export async function pickSlot(user: UserEvent, { day = 0, time = 0 } = {}): Promise<string> {
  const days = within(await screen.findByRole('radiogroup', { name: 'Day' })).getAllByRole('radio');
  const dayRadio = days[day];
  if (!dayRadio) throw new Error(`No open day #${day}`);
  await user.click(dayRadio);
  const times = within(await screen.findByRole('radiogroup', { name: /^Time on / })).getAllByRole('radio');
  const timeRadio = times[time];
  if (!timeRadio) throw new Error(`No open time #${time}`);
  await user.click(timeRadio);
  return (timeRadio as HTMLInputElement).value;
}

/** Name, email and state, as typed by the patient. */
export async function fillPatient(user: UserEvent) {
  await user.type(screen.getByLabelText('Full name'), 'Jane Doe');
  await user.type(screen.getByLabelText('Email'), 'jane@example.com');
  await user.selectOptions(screen.getByLabelText('State'), 'CA');
}

/** The whole booking form: practitioner, service, the first open slot, name, email, state. */
export async function fillBookingForm(user: UserEvent): Promise<string> {
  await chooseService(user);
  const slot = await pickSlot(user);
  await fillPatient(user);
  return slot;
}
