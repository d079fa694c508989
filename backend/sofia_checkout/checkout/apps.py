from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    """The shopper's API and the staff admin over booking and paying together.

    It composes the two domain apps; `payments` depends on `appointments`, never the reverse, and neither
    imports this one.
    """

    name = "sofia_checkout.checkout"
    label = "checkout"
