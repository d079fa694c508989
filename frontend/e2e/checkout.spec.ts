import path from 'node:path';

import { artifactsDir, CARDS, expect, test } from './fixtures';

const confirmed = { level: 1, name: 'Your appointment is confirmed' } as const;
const review = { level: 1, name: 'Payment received, under HSA/FSA review' } as const;

test('card payment succeeds and the appointment is confirmed', async ({ page, bookAppointment, payOnStripe, checkA11y, saveScreenshot }) => {
  await bookAppointment();
  await expect(page.getByRole('heading', { level: 1, name: 'Review and pay' })).toBeFocused();
  await checkA11y('checkout');
  await saveScreenshot('checkout');

  await page.getByRole('button', { name: 'Pay by card' }).click();
  await payOnStripe(CARDS.success);

  await expect(page).toHaveURL(/\/checkout\/return\?/);
  await expect(page.getByRole('heading', confirmed)).toBeVisible();
  await expect(page.getByRole('status')).toHaveText('Your appointment is confirmed');
  await checkA11y('return: confirmed');
  await saveScreenshot('return-confirmed-card');
});

test('HSA/FSA payment goes through review to confirmed', async ({ page, bookAppointment, payOnTruemed, checkA11y, saveScreenshot }) => {
  await bookAppointment();
  await page.getByRole('button', { name: 'Pay with HSA / FSA' }).click();
  await payOnTruemed('pay');

  await expect(page).toHaveURL(/\/checkout\/return\?/);
  await expect(page.getByRole('heading', review)).toBeVisible();
  await checkA11y('return: under review');
  await saveScreenshot('return-under-review');

  await expect(page.getByRole('heading', confirmed)).toBeVisible({ timeout: 30_000 });
  await saveScreenshot('return-confirmed-hsa');
});

test('a declined card stays on Stripe; cancel, then retry by card', async ({ page, bookAppointment, payOnStripe, checkA11y, saveScreenshot }) => {
  await bookAppointment();
  await page.getByRole('button', { name: 'Pay by card' }).click();
  await payOnStripe(CARDS.declined);
  await expect(page.getByRole('alert')).toContainText('declined');
  await page.getByRole('button', { name: 'Cancel' }).click();

  await expect(page).toHaveURL(/\/checkout\/cancelled\?/);
  await expect(page.getByRole('heading', { level: 1, name: 'Payment cancelled' })).toBeVisible();
  await expect(page.getByText('Nothing was charged.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Pay with HSA / FSA' })).toBeVisible();
  await checkA11y('cancelled');
  await saveScreenshot('cancelled');

  await page.getByRole('button', { name: 'Pay by card' }).click();
  await payOnStripe(CARDS.success);
  await expect(page.getByRole('heading', confirmed)).toBeVisible();
});

test('cancel on Truemed, then try HSA/FSA again', async ({ page, bookAppointment, payOnTruemed }) => {
  await bookAppointment();
  await page.getByRole('button', { name: 'Pay with HSA / FSA' }).click();
  await page.waitForURL('http://127.0.0.1:18100/**');
  await page.getByRole('button', { name: 'Cancel' }).click();

  await expect(page.getByRole('heading', { level: 1, name: 'Payment cancelled' })).toBeVisible();
  await page.getByRole('button', { name: 'Pay with HSA / FSA' }).click();
  await payOnTruemed('pay');
  await expect(page.getByRole('heading', review).or(page.getByRole('heading', confirmed))).toBeVisible();
  await expect(page.getByRole('heading', confirmed)).toBeVisible({ timeout: 30_000 });
});

test('HSA/FSA rejected, then "Pay by card instead" confirms', async ({ page, bookAppointment, payOnTruemed, payOnStripe, checkA11y, saveScreenshot }) => {
  await bookAppointment();
  await page.getByRole('button', { name: 'Pay with HSA / FSA' }).click();
  await payOnTruemed('reject');

  await expect(page.getByRole('heading', { level: 1, name: 'Your HSA/FSA payment was not approved' })).toBeVisible({
    timeout: 30_000,
  });
  await checkA11y('return: rejected');
  await saveScreenshot('return-rejected');

  await page.getByRole('button', { name: 'Pay by card instead' }).click();
  await payOnStripe(CARDS.success);
  await expect(page.getByRole('heading', confirmed)).toBeVisible();
  await saveScreenshot('return-confirmed-after-rejection');
});

test('the return page survives a refresh and a return without parameters', async ({ page, bookAppointment, payOnStripe, saveScreenshot }) => {
  await bookAppointment();
  await page.getByRole('button', { name: 'Pay by card' }).click();
  await payOnStripe(CARDS.success);
  await expect(page.getByRole('heading', confirmed)).toBeVisible();

  await page.reload();
  await expect(page.getByRole('heading', confirmed)).toBeVisible();

  // A new tab of the same browser, with no query parameters: the stored appointment is used.
  const tab = await page.context().newPage();
  await tab.goto('/checkout/return');
  await expect(tab.getByRole('heading', confirmed)).toBeVisible();
  await tab.screenshot({ path: path.join(artifactsDir, 'return-without-parameters.png'), fullPage: true });
  await tab.close();
  await saveScreenshot('return-after-refresh');
});

test('a double click on a pay button creates exactly one provider session', async ({ page, bookAppointment, sandbox }) => {
  await bookAppointment();
  await sandbox.reset();
  await page.getByRole('button', { name: 'Pay by card' }).dblclick();
  await page.waitForURL('http://127.0.0.1:18100/**');
  await expect(page.getByLabel('Card number')).toBeVisible();

  const { sessions, creates_per_idempotency_key: creates } = await sandbox.sessions();
  expect(sessions).toHaveLength(1);
  expect(Object.values(creates)).toEqual([1]);
});
