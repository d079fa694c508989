/** Leaves the SPA for a provider's hosted payment page. One seam, so tests can watch it. */
export function redirectTo(url: string): void {
  window.location.assign(url);
}
