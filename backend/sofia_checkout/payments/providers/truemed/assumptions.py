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
# [seen] session ids are UUIDs; [guess] allow any URL-safe token of that size. Anything else never reaches a
# request path (a webhook body must not steer which URL we call).
SESSION_ID_PATTERN = r"[A-Za-z0-9_-]{1,100}"
# [guess] signed-mode event types: the docs name `payment_session_complete` and describe dot-notation
# types; every type starting with this prefix is a payment-session event. Others (qualification, refunds)
# are acknowledged and recorded, never refused (Truemed retries refused deliveries for 7 days).
PAYMENT_EVENT_PREFIX = "payment_session"
# [guess] signed-mode header grammar, like Stripe's: "t=<unix>,v1=<hex>[,v1=<hex>]".
SIGNATURE_HEADER = "x-truemed-signature"
LEGACY_KEY_HEADER = "x-truemed-api-key"
SIGNATURE_TOLERANCE_SECONDS = 300
# [docs] amount_details is named required but the sandbox accepted bodies without it [seen]: send zeros.
SEND_ZERO_AMOUNT_DETAILS = True
# [docs] metadata is a string, echoed back; we put our payment session id there.
REFUND_REASON = "customer_request"
# [docs] the refund answer is only `{refund_id}`: it says the refund was accepted, not that it went
# through. [guess] the session's `status_summary` then reads one of these once the refund is done; until
# then our refund stays pending and the reconcile job re-reads the session.
REFUNDED_SUMMARIES = ("Refunded", "Partially Refunded")
