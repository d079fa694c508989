"""Offline emulator of the Stripe Checkout and Truemed APIs (its own process, no product code).

Run: `python -m provider_sandbox`. Build in-process: `provider_sandbox.app.create_app(SandboxConfig(...))`.
One folder per emulated provider (`stripe/`, `truemed/`), shared plumbing beside them; see docs/sandbox.md.
"""
