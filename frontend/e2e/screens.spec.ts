import type { Locator, Page } from '@playwright/test';

import { expect, test } from './fixtures';

test('booking page: accessible, keyboard-only, with field errors', async ({ page, checkA11y, saveScreenshot }) => {
  await page.goto('/');
  const heading = page.getByRole('heading', { level: 1, name: 'Book your appointment' });
  await expect(heading).toBeVisible();
  await expect(page.getByRole('status')).toBeAttached();
  await checkA11y('book');
  await saveScreenshot('book');

  // Submit with the keyboard only: errors are announced and tied to their fields.
  await page.getByRole('button', { name: 'Continue to payment' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Full name')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Full name')).toHaveAccessibleDescription('Enter your full name.');
  await expect(page.getByLabel('Practitioner')).toBeFocused();
  await checkA11y('book with errors');
  await saveScreenshot('book-errors');
});

test.describe('at 360 px wide', () => {
  test.use({ viewport: { width: 360, height: 740 } });

  test('booking works and nothing scrolls sideways', async ({ page, bookAppointment, checkA11y, saveScreenshot }) => {
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1, name: 'Book your appointment' })).toBeVisible();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await saveScreenshot('book-360');

    await bookAppointment();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await expect(page.getByRole('button', { name: 'Pay by card' })).toBeVisible();
    await checkA11y('checkout at 360px');
    await saveScreenshot('checkout-360');
  });
});

test('unknown routes show a 404 page', async ({ page, checkA11y, saveScreenshot }) => {
  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await checkA11y('404');
  await saveScreenshot('not-found');
});

/** Presses Tab until `target` has focus (a date input has inner segments that also take Tab). */
async function tabTo(page: Page, target: Locator) {
  for (let i = 0; i < 6; i += 1) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((el) => el === document.activeElement)) return;
  }
  await expect(target).toBeFocused();
}

test('booking and choosing a payment method work with the keyboard only', async ({ page, saveScreenshot }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Book your appointment' })).toBeFocused();
  const day = new Date();
  day.setDate(day.getDate() + 70);
  const mm = String(day.getMonth() + 1).padStart(2, '0');
  const dd = String(day.getDate()).padStart(2, '0');
  const minute = String(Math.floor(Math.random() * 60)).padStart(2, '0');

  await tabTo(page, page.getByLabel('Practitioner'));
  await page.keyboard.press('ArrowDown');
  await tabTo(page, page.getByLabel('Service'));
  await page.keyboard.press('ArrowDown');
  await tabTo(page, page.getByLabel('Date'));
  await page.keyboard.type(`${mm}${dd}${day.getFullYear()}`);
  await tabTo(page, page.getByLabel('Time'));
  await page.keyboard.type(`07${minute}AM`);
  await tabTo(page, page.getByLabel('Full name'));
  await page.keyboard.type('Kim Keyboard');
  await tabTo(page, page.getByLabel('Email'));
  await page.keyboard.type('kim@example.com');
  await tabTo(page, page.getByLabel('State'));
  await page.keyboard.type('New York');
  await tabTo(page, page.getByRole('button', { name: 'Continue to payment' }));
  await page.keyboard.press('Enter');

  await expect(page.getByRole('heading', { level: 1, name: 'Review and pay' })).toBeFocused();
  await expect(page.getByText('Kim Keyboard')).toBeVisible();
  await tabTo(page, page.getByRole('button', { name: 'Pay by card' }));
  await page.keyboard.press('Enter');
  await page.waitForURL('http://127.0.0.1:18100/**');
  await expect(page.getByLabel('Card number')).toBeVisible();
  await saveScreenshot('keyboard-only-provider-page');
});
