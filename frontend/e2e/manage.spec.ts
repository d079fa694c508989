import path from 'node:path';

import type { APIRequestContext } from '@playwright/test';

import { artifactsDir, CARDS, expect, SANDBOX_URL, test } from './fixtures';

interface SandboxEmail {
  id: string;
  to: string[];
  subject: string;
  text: string;
  attachments: { filename: string; content_type: string }[];
}

/** The newest email to `to` whose subject starts with `subject`, from the sandbox's mail sink (issue 12). */
async function waitForEmail(request: APIRequestContext, to: string, subject: string) {
  let found: SandboxEmail | undefined;
  await expect
    .poll(
      async () => {
        const answer = await request.get(`${SANDBOX_URL}/_sandbox/emails.json`);
        const { emails } = (await answer.json()) as { emails: SandboxEmail[] };
        found = emails.find((email) => email.to.includes(to) && email.subject.startsWith(subject));
        return found !== undefined;
      },
      { timeout: 30_000, intervals: [500, 1000, 2000] },
    )
    .toBe(true);
  if (!found) throw new Error('unreachable');
  return found;
}

test('book, pay, get the email, manage from another browser: reschedule, then cancel with refund', async ({
  page,
  browser,
  bookAppointment,
  payOnStripe,
}) => {
  await bookAppointment();
  await page.getByRole('button', { name: 'Pay by card' }).click();
  await payOnStripe(CARDS.success);
  await expect(page.getByRole('heading', { level: 1, name: 'Your appointment is confirmed' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Manage your appointment' })).toBeVisible();

  // The confirmation email, as the sandbox's SMTP sink received it: with the calendar file and the manage link.
  const email = await waitForEmail(page.request, 'jane.doe@example.com', 'Your appointment is confirmed');
  expect(email.attachments.map((attachment) => attachment.content_type)).toContainEqual(expect.stringContaining('text/calendar'));
  const link = /https?:\/\/\S+\/appointments\/[^/\s]+\/manage#token=[A-Za-z0-9_-]+/.exec(email.text)?.[0];
  expect(link, 'manage link in the email').toBeTruthy();

  // Another device: a fresh context, no localStorage. The token comes only from the link's fragment.
  const other = await browser.newContext();
  try {
    const phone = await other.newPage();
    await phone.goto(link ?? '');
    await expect(phone.getByRole('heading', { level: 1, name: 'Your appointment' })).toBeVisible();
    await expect(phone.getByText('Confirmed and paid')).toBeVisible();
    expect(new URL(phone.url()).hash).toBe('');

    // Reschedule to another open slot.
    await phone.getByRole('button', { name: 'Change the time' }).click();
    await phone.getByRole('radiogroup', { name: 'Day' }).getByRole('radio').first().check();
    await phone.getByRole('radiogroup', { name: /^Time on / }).getByRole('radio').first().check();
    await phone.getByRole('button', { name: /^Move to / }).click();
    await expect(phone.getByRole('heading', { name: 'Your appointment was moved' })).toBeVisible();
    await phone.getByRole('button', { name: 'Done' }).click();

    // Cancel: the refund is stated first, then it is visible on the page.
    await phone.getByRole('button', { name: 'Cancel appointment' }).click();
    await expect(phone.getByTestId('refund-statement')).toContainText('is refunded in full to the card you paid with');
    await phone.getByRole('button', { name: /^Cancel and refund \$/ }).click();
    const status = phone.getByTestId('manage-status');
    await expect(status).toContainText('Cancelled');
    await expect(status).toContainText(/Refunded: \$[\d.,]+ went back|A refund of \$[\d.,]+ .* is on its way/);
    // The refund settles with the provider's webhook: a reload shows it refunded.
    await expect(async () => {
      await phone.reload();
      await expect(phone.getByTestId('manage-status')).toContainText(/Refunded: \$[\d.,]+ went back to the card you paid with/, {
        timeout: 2_000,
      });
    }).toPass({ timeout: 30_000 });
    await phone.screenshot({ path: path.join(artifactsDir, 'manage-cancelled.png'), fullPage: true });
  } finally {
    await other.close();
  }
});
