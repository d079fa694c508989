"""Every guess about Truemed's API in one place (see shared/truemed-api.md "Not known").

Correct these against the live sandbox; nothing else in the adapter hard-codes them.
"""

CREATE_PATH = "/payments/v1/create_payment_session"  # [docs]
SESSION_PATH = "/payments/v1/payment_session/{id}"  # [docs, seen]
# [guess] follows the documented capture/void paths.
CANCEL_PATH = "/payments/v1/payment_session/{id}/cancel"
# [guess] refund path named only by a third party.
REFUND_PATH = "/payments/v1/refund"
# [guess] the webhook's session id field: accept any of these, first match wins.
WEBHOOK_SESSION_ID_FIELDS = ("payment_id", "payment_session_id", "id")
# [guess] signed-mode header grammar, like Stripe's: "t=<unix>,v1=<hex>[,v1=<hex>]".
SIGNATURE_HEADER = "x-truemed-signature"
LEGACY_KEY_HEADER = "x-truemed-api-key"
SIGNATURE_TOLERANCE_SECONDS = 300
# [docs] amount_details is named required but the sandbox accepted bodies without it [seen]: send zeros.
SEND_ZERO_AMOUNT_DETAILS = True
# [docs] metadata is a string, echoed back; we put our payment session id there.
REFUND_REASON = "customer_request"
