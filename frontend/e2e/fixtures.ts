import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';

export { expect };

const here = path.dirname(fileURLToPath(import.meta.url));
export const artifactsDir = path.join(here, 'artifacts');
export const SANDBOX_URL = 'http://127.0.0.1:18100';

export const CARDS = { success: '4242 4242 4242 4242', declined: '4000 0000 0000 0002' } as const;

interface SandboxSessions {
  sessions: { provider: string; id: string; status: string; idempotency_key: string | null }[];
  creates_per_idempotency_key: Record<string, number>;
}

interface Fixtures {
  /** Books the first open slot through the real form and its slot picker; ends on the checkout page. */
  bookAppointment: () => Promise<{ appointmentId: string }>;
  /** On Stripe's hosted page: types the card and presses Pay. */
  payOnStripe: (card?: string) => Promise<void>;
  /** On Truemed's hosted pages: answers the survey, then pays or simulates a rejection. */
  payOnTruemed: (outcome?: 'pay' | 'reject') => Promise<void>;
  /** Fails on serious or critical axe violations (WCAG 2.1 A/AA). */
  checkA11y: (screen: string) => Promise<void>;
  /** Saves a full-page screenshot as e2e/artifacts/<name>.png. */
  saveScreenshot: (name: string) => Promise<void>;
  sandbox: { reset: () => Promise<void>; sessions: () => Promise<SandboxSessions> };
}

/** Practitioner and service: the first of each (Dr. Ana Reyes, Mon-Fri 9-12 and 13-17 New York time, in the seed). */
export async function chooseService(page: Page) {
  await page.getByLabel('Practitioner').selectOption({ index: 1 });
  await page.getByLabel('Service').selectOption({ index: 1 });
}

/**
 * Picks the first offered day and its first open time (the slots come from the real availability API, so
 * every test takes the next free one: what earlier tests booked is no longer offered). Returns the time's
 * value, the slot as the server wrote it.
 */
export async function pickFirstSlot(page: Page): Promise<string> {
  const days = page.getByRole('radiogroup', { name: 'Day' });
  await days.getByRole('radio').first().check();
  const time = page.getByRole('radiogroup', { name: /^Time on / }).getByRole('radio').first();
  await time.check();
  return (await time.getAttribute('value')) ?? '';
}

async function fillPatient(page: Page) {
  await page.getByLabel('Full name').fill('Jane Doe');
  await page.getByLabel('Email').fill('jane.doe@example.com');
  await page.getByLabel('State').selectOption('CA');
}

export const test = base.extend<Fixtures>({
  bookAppointment: async ({ page }, use) => {
    await use(async () => {
      await page.goto('/');
      await expect(page.getByRole('heading', { level: 1, name: 'Book your appointment' })).toBeVisible();
      await chooseService(page);
      await fillPatient(page);
      // A slot can be taken between showing and booking (another run sharing the database): the page then
      // refetches the open times and asks for another pick, keeping what was typed.
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await pickFirstSlot(page);
        await page.getByRole('button', { name: 'Continue to payment' }).click();
        const checkout = page.getByRole('heading', { level: 1, name: 'Review and pay' });
        const taken = page.getByRole('group', { name: 'Day and time' }).getByText(/that time was just taken/i);
        await expect(checkout.or(taken)).toBeVisible();
        if (await checkout.isVisible()) break;
      }
      await expect(page.getByRole('heading', { level: 1, name: 'Review and pay' })).toBeVisible();
      const match = /\/appointments\/([^/]+)\/checkout/.exec(page.url());
      if (!match?.[1]) throw new Error(`Not on a checkout page: ${page.url()}`);
      return { appointmentId: decodeURIComponent(match[1]) };
    });
  },

  payOnStripe: async ({ page }, use) => {
    await use(async (card = CARDS.success) => {
      await page.waitForURL(`${SANDBOX_URL}/**`);
      await page.getByLabel('Card number').fill(card);
      await page.getByRole('button', { name: 'Pay', exact: true }).click();
    });
  },

  payOnTruemed: async ({ page }, use) => {
    await use(async (outcome = 'pay') => {
      await page.waitForURL(`${SANDBOX_URL}/**`);
      await page.getByLabel('Yes').check();
      await page.getByRole('button', { name: 'Continue' }).click();
      const button = outcome === 'pay' ? 'Pay with HSA/FSA card' : 'Simulate rejection';
      await page.getByRole('button', { name: button }).click();
    });
  },

  checkA11y: async ({ page }, use) => {
    await use(async (screen) => {
      const results = await new AxeBuilder({ page })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
        .analyze();
      const serious = results.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
      expect(serious, `axe violations on ${screen}`).toEqual([]);
    });
  },

  saveScreenshot: async ({ page }, use) => {
    await fs.mkdir(artifactsDir, { recursive: true });
    await use(async (name) => {
      await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
    });
  },

  sandbox: async ({ request }, use) => {
    await use({
      reset: async () => {
        const response = await request.post(`${SANDBOX_URL}/_sandbox/reset`);
        expect(response.ok()).toBe(true);
      },
      sessions: async () => {
        const response = await request.get(`${SANDBOX_URL}/_sandbox/sessions`);
        expect(response.ok()).toBe(true);
        return (await response.json()) as SandboxSessions;
      },
    });
  },
});
