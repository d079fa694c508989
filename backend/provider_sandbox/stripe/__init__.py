"""The emulated Stripe Checkout: its API (`/stripe`), hosted page (`/pay/stripe`) and forced outcomes
(`/_sandbox/stripe`).

Only this package knows Stripe's words; it imports nothing from truemed/.
"""
