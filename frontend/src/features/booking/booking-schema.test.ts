import { parseBookingForm, type BookingFormValues } from './booking-schema';

const filled: BookingFormValues = {
  practitioner: 'Dr. Ana Reyes',
  service: 'initial_consultation',
  date: '2026-12-01',
  time: '15:30',
  client_name: '  Jane Doe ',
  client_email: ' jane@example.com ',
  client_state: 'CA',
};

describe('parseBookingForm', () => {
  it('reports every missing field at once, one message each', () => {
    const result = parseBookingForm({ ...filled, practitioner: '', service: '', date: '', client_name: ' ', client_email: '', client_state: '' });
    expect(result).toEqual({
      success: false,
      errors: {
        practitioner: ['Choose a practitioner.'],
        appointment_time: ['Choose a date and a time.'],
        client_name: ['Enter your full name.'],
        client_email: ['Enter your email address.'],
        client_state: ['Choose your state.'],
      },
    });
  });

  it('asks for a service once a practitioner is chosen, and checks the email and the date', () => {
    const result = parseBookingForm({ ...filled, service: '', date: '2026-02-30', client_email: 'jane@example' });
    expect(result).toEqual({
      success: false,
      errors: {
        service: ['Choose a service.'],
        appointment_time: ['Enter a valid date and time.'],
        client_email: ['Enter an email address like name@example.com.'],
      },
    });
  });

  it('yields the request body: trimmed text, the time with its offset, never a price', () => {
    const result = parseBookingForm(filled);
    if (!result.success) throw new Error('expected the form to be valid');
    expect(result.data).toMatchObject({
      practitioner: 'Dr. Ana Reyes',
      service: 'initial_consultation',
      client_name: 'Jane Doe',
      client_email: 'jane@example.com',
      client_state: 'CA',
    });
    expect(result.data.appointment_time).toMatch(/^2026-12-01T15:30:00[+-]\d{2}:\d{2}$/);
    expect(Object.keys(result.data).sort()).toEqual(
      ['appointment_time', 'client_email', 'client_name', 'client_state', 'practitioner', 'service'],
    );
  });
});
