import { parseBookingForm, type BookingFormValues } from './booking-schema';

const filled: BookingFormValues = {
  practitioner: 'ana-reyes',
  service: 'initial_consultation',
  day: '2026-12-01',
  appointment_time: '2026-12-01T15:30:00-05:00',
  client_name: '  Jane Doe ',
  client_email: ' jane@example.com ',
  client_state: 'CA',
};

describe('parseBookingForm', () => {
  it('reports every missing field at once, one message each', () => {
    const result = parseBookingForm({ ...filled, practitioner: '', service: '', day: '', appointment_time: '', client_name: ' ', client_email: '', client_state: '' });
    expect(result).toEqual({
      success: false,
      errors: {
        practitioner: ['Choose a practitioner.'],
        appointment_time: ['Choose a day and a time.'],
        client_name: ['Enter your full name.'],
        client_email: ['Enter your email address.'],
        client_state: ['Choose your state.'],
      },
    });
  });

  it('asks for a service once a practitioner is chosen, for a time once a day is chosen, and checks the email', () => {
    const result = parseBookingForm({ ...filled, service: '', appointment_time: '', client_email: 'jane@example' });
    expect(result).toEqual({
      success: false,
      errors: {
        service: ['Choose a service.'],
        appointment_time: ['Choose a time.'],
        client_email: ['Enter an email address like name@example.com.'],
      },
    });
  });

  it('yields the request body: trimmed text, the offered slot as sent, never a price', () => {
    const result = parseBookingForm(filled);
    if (!result.success) throw new Error('expected the form to be valid');
    expect(result.data).toMatchObject({
      practitioner: 'ana-reyes',
      service: 'initial_consultation',
      appointment_time: '2026-12-01T15:30:00-05:00',
      client_name: 'Jane Doe',
      client_email: 'jane@example.com',
      client_state: 'CA',
    });
    expect(Object.keys(result.data).sort()).toEqual(
      ['appointment_time', 'client_email', 'client_name', 'client_state', 'practitioner', 'service'],
    );
  });
});
