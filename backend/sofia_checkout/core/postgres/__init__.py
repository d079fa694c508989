"""Django's PostgreSQL backend with a cheaper pool check (base.py). ENGINE: sofia_checkout.core.postgres."""
