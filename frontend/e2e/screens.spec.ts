import type { Locator, Page } from '@playwright/test';

import { chooseService, expect, pickFirstSlot, test } from './fixtures';

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

test('slot picker: real open times in the patient\'s zone, accessible with a day and a time chosen', async ({ page, checkA11y, saveScreenshot }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Book your appointment' })).toBeVisible();
  // The browser runs in America/New_York (playwright.config.ts): the page says so.
  await expect(page.getByText('Times are shown in your time zone: Eastern Time (America/New_York).')).toBeVisible();
  await chooseService(page);
  await expect(page.getByLabel('Service')).toHaveAccessibleDescription(/^Length: \d+ minutes · Price: \$\d/);

  // Dr. Ana Reyes works Mon-Fri 9-12 and 13-17 New York time: weekdays only, the first time at 9 AM or later.
  const days = page.getByRole('radiogroup', { name: 'Day' }).getByRole('radio');
  await expect(days.first()).toBeVisible();
  for (const name of await days.evaluateAll((radios) => radios.map((r) => r.closest('label')?.textContent ?? ''))) {
    expect(name).toMatch(/^(Mon|Tue|Wed|Thu|Fri) /);
  }
  const slot = await pickFirstSlot(page);
  expect(slot).toMatch(/^\d{4}-\d{2}-\d{2}T(09|1[0-6]):[0-5]\d:00-0[45]:00$/);
  await expect(page.getByText(/^Your visit: .* (EST|EDT) \(\d+ minutes\)$/)).toBeVisible();
  await checkA11y('book: slot picker');
  await saveScreenshot('book-slots');

  // "Next week" fetches the next window; "Previous week" comes back and hands focus on when it is disabled.
  const windowLabel = page.locator('#slot-window');
  const first = await windowLabel.textContent();
  await page.getByRole('button', { name: 'Next week' }).click();
  await expect(windowLabel).not.toHaveText(first ?? '');
  await expect(days.first()).toBeVisible();
  await page.getByRole('button', { name: 'Previous week' }).click();
  await expect(windowLabel).toHaveText(first ?? '');
  await expect(page.getByRole('button', { name: 'Next week' })).toBeFocused();
});

test('a slot taken meanwhile: the times are refreshed, another is asked for, what was typed stays', async ({ page, checkA11y, saveScreenshot }) => {
  await page.goto('/');
  await chooseService(page);
  const wanted = await pickFirstSlot(page);
  await page.getByLabel('Full name').fill('Pat Slow');
  await page.getByLabel('Email').fill('pat.slow@example.com');
  await page.getByLabel('State').selectOption('NY');

  // Another patient, quicker, books the same first open slot.
  const other = await page.context().newPage();
  await other.goto('/');
  await chooseService(other);
  expect(await pickFirstSlot(other)).toBe(wanted);
  await other.getByLabel('Full name').fill('Quinn Quick');
  await other.getByLabel('Email').fill('quinn@example.com');
  await other.getByLabel('State').selectOption('CA');
  await other.getByRole('button', { name: 'Continue to payment' }).click();
  await expect(other.getByRole('heading', { level: 1, name: 'Review and pay' })).toBeVisible();
  await other.close();

  await page.getByRole('button', { name: 'Continue to payment' }).click();
  const picker = page.getByRole('group', { name: 'Day and time' });
  await expect(picker.getByText('That time was just taken. Please pick another time; the open times are up to date.')).toBeVisible();
  await expect(page.locator(`input[type="radio"][value="${wanted}"]`)).toHaveCount(0);
  await expect(page.getByRole('radiogroup', { name: /^Time on / }).getByRole('radio').first()).toBeFocused();
  await expect(page.getByLabel('Full name')).toHaveValue('Pat Slow');
  await expect(page.getByLabel('Email')).toHaveValue('pat.slow@example.com');
  await expect(page.getByLabel('State')).toHaveValue('NY');
  await checkA11y('book: slot taken');
  await saveScreenshot('book-slot-taken');

  expect(await pickFirstSlot(page)).not.toBe(wanted);
  await page.getByRole('button', { name: 'Continue to payment' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Review and pay' })).toBeVisible();
  await expect(page.getByText('Pat Slow')).toBeVisible();
});

test.describe('at 390 px wide (a phone)', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('the slot picker fits and is accessible', async ({ page, checkA11y, saveScreenshot }) => {
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1, name: 'Book your appointment' })).toBeVisible();
    await chooseService(page);
    await pickFirstSlot(page);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    // Day and time options are finger-sized.
    for (const box of await page.locator('.slot-chip').evaluateAll((chips) => chips.map((c) => c.getBoundingClientRect().height))) {
      expect(box).toBeGreaterThanOrEqual(44);
    }
    await checkA11y('book at 390px');
    await saveScreenshot('book-390');
  });
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

  await tabTo(page, page.getByLabel('Practitioner'));
  await page.keyboard.press('ArrowDown');
  await tabTo(page, page.getByLabel('Service'));
  await page.keyboard.press('ArrowDown');
  // Tab enters the day group on its first option; the arrow keys move and choose within the group.
  const days = page.getByRole('radiogroup', { name: 'Day' }).getByRole('radio');
  await expect(days.first()).toBeVisible();
  await tabTo(page, days.first());
  await page.keyboard.press('ArrowRight');
  await expect(days.nth(1)).toBeChecked();
  await expect(days.nth(1)).toBeFocused();
  const times = page.getByRole('radiogroup', { name: /^Time on / }).getByRole('radio');
  await tabTo(page, times.first());
  await page.keyboard.press('Space');
  await expect(times.first()).toBeChecked();
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
