export const paths = {
  book: { path: '/', href: () => '/' },
  checkout: {
    path: '/appointments/:appointmentId/checkout',
    href: (appointmentId: string) => `/appointments/${encodeURIComponent(appointmentId)}/checkout`,
  },
  checkoutReturn: {
    path: '/checkout/return',
    href: (appointmentId?: string) =>
      appointmentId ? `/checkout/return?${new URLSearchParams({ appointment_id: appointmentId }).toString()}` : '/checkout/return',
  },
  checkoutCancelled: { path: '/checkout/cancelled', href: () => '/checkout/cancelled' },
  manage: {
    path: '/appointments/:appointmentId/manage',
    href: (appointmentId: string) => `/appointments/${encodeURIComponent(appointmentId)}/manage`,
  },
  receipt: {
    path: '/appointments/:appointmentId/receipt',
    href: (appointmentId: string) => `/appointments/${encodeURIComponent(appointmentId)}/receipt`,
  },
} as const;
