"""Truemed emulation: create (sum rule, templating, strict/lenient), read, cancel, refund, errors."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from provider_sandbox.tests.helpers import TRUEMED_AUTH, Sandbox, SandboxFactory, truemed_body
from testing.net import wait_until

API = "/truemed/payments/v1"


def error_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["message"]
    return str(body["error"])


def read(sandbox: Sandbox, session_id: str) -> dict[str, Any]:
    response = sandbox.client.get(f"{API}/payment_session/{session_id}", headers=TRUEMED_AUTH)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_create_then_read(sandbox: Sandbox) -> None:
    created = sandbox.truemed_session()
    assert set(created) == {"id", "redirect_url"}
    uuid.UUID(created["id"])
    assert created["redirect_url"] == f"http://sandbox.test/pay/truemed/{created['id']}"
    session = read(sandbox, created["id"])
    assert session["id"] == created["id"]
    assert (session["status"], session["status_summary"], session["kind"]) == (
        "pending",
        "Incomplete",
        "one_time_payment",
    )
    assert (session["total_amount"], session["authorize_amount"], session["capture_amount"]) == (15000, 0, 0)
    assert session["created_at"].endswith("+00:00")
    assert session["authorized_on"] is None
    assert session["captured_on"] is None
    assert session["metadata"] == '{"payment_session_id":"ps-1"}'
    [item] = session["order_items"]
    assert (item["sku"], item["name"], item["price"], item["quantity"]) == (
        "initial_consultation",
        "Initial consultation",
        15000,
        1,
    )
    uuid.UUID(item["item_id"])  # assigned when the merchant sends none
    assert session["truemed_fee"] == 950
    # Only what Truemed documents (and the fee seen in its sandbox): no field a client could come to rely on
    # that the real API may not have.
    assert set(session) == {
        "id",
        "status",
        "status_summary",
        "total_amount",
        "authorize_amount",
        "capture_amount",
        "kind",
        "created_at",
        "authorized_on",
        "captured_on",
        "metadata",
        "order_items",
        "truemed_fee",
    }
    stored = sandbox.truemed.sessions[created["id"]]
    assert (stored.customer_email, stored.customer_name, stored.customer_state) == (
        "jane@example.com",
        "Jane Doe",
        "CA",
    )


def test_order_items_echo_item_id_and_only_documented_fields(sandbox: Sandbox) -> None:
    items = [
        {"item_id": "visit-60", "sku": "a", "name": "A", "price": 1000, "quantity": 2, "colour": "red"},
        {"name": "B", "price": 500, "quantity": 1},
    ]
    session_id = sandbox.truemed_session(total_amount=2500, order_items=items)["id"]
    first, second = read(sandbox, session_id)["order_items"]
    assert first == {"item_id": "visit-60", "sku": "a", "name": "A", "price": 1000, "quantity": 2}
    assert set(second) == {"item_id", "name", "price", "quantity"}
    assert error_of(sandbox.truemed_create(order_items=[{**items[0], "item_id": 7}]), 400) == "InvalidField"


def test_fee_matches_the_observed_sandbox_fee(sandbox: Sandbox) -> None:
    body = truemed_body(
        total_amount=60000, order_items=[{"sku": "x", "name": "Program", "price": 60000, "quantity": 1}]
    )
    assert read(sandbox, sandbox.truemed_session(**body)["id"])["truemed_fee"] == 3800


def test_session_id_template_is_filled_in(sandbox: Sandbox) -> None:
    created = sandbox.truemed_session(failure_url="http://shop.test/fail?s={{payment_session_id}}")
    stored = sandbox.truemed.sessions[created["id"]]
    assert stored.success_url.endswith(f"truemed_session_id={created['id']}")
    assert stored.failure_url == f"http://shop.test/fail?s={created['id']}"


def test_sum_rule_with_item_and_order_details(sandbox: Sandbox) -> None:
    items = [
        {
            "sku": "a",
            "name": "A",
            "price": 1000,
            "quantity": 2,
            "amount_details": {"total_additional_charges": 50, "total_discounts": -100},
        },
        {"sku": "b", "name": "B", "price": 500, "quantity": 1},
    ]
    details = {"total_additional_charges": 200, "total_discounts": -300}
    # 2*1000 + 50 - 100 + 500 + 200 - 300
    assert (
        sandbox.truemed_create(total_amount=2350, order_items=items, amount_details=details).status_code
        == 200
    )
    wrong = sandbox.truemed_create(total_amount=2500, order_items=items, amount_details=details)
    assert error_of(wrong, 400) == "TotalAmountInvalid"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"total_amount": None}, "MissingField"),
        ({"order_items": None}, "MissingField"),
        ({"success_url": None}, "MissingField"),
        ({"total_amount": -5, "order_items": [{"name": "x", "price": -5, "quantity": 1}]}, "InvalidField"),
        (
            {"total_amount": 0, "order_items": [{"name": "x", "price": 0, "quantity": 1}]},
            "TotalAmountInvalid",
        ),
        ({"total_amount": 14999}, "TotalAmountInvalid"),
        ({"total_amount": "15000"}, "InvalidField"),
        ({"total_amount": 150.0}, "InvalidField"),
        ({"order_items": []}, "InvalidField"),
        ({"order_items": [{"name": "x", "price": 15000}]}, "MissingField"),
        ({"order_items": [{"price": 15000, "quantity": 1}]}, "MissingField"),
        ({"order_items": [{"name": "x", "price": 15000, "quantity": 0}]}, "InvalidField"),
        ({"metadata": {"payment_session_id": "ps-1"}}, "InvalidField"),
        ({"success_url": "/relative"}, "InvalidField"),
        ({"customer_state": "California"}, "InvalidField"),
        ({"customer_email": "nope"}, "InvalidField"),
        ({"kind": "authorization"}, "ManualCaptureNotEnabled"),
        ({"kind": "subscription"}, "InvalidField"),
        ({"idempotency_key": 12}, "InvalidField"),
    ],
)
def test_create_errors(sandbox: Sandbox, overrides: dict[str, Any], code: str) -> None:
    assert error_of(sandbox.truemed_create(**overrides), 400) == code
    assert sandbox.truemed.sessions == {}


def test_body_must_be_a_json_object(sandbox: Sandbox) -> None:
    response = sandbox.client.post(
        f"{API}/create_payment_session",
        content=b"[1]",
        headers={**TRUEMED_AUTH, "Content-Type": "application/json"},
    )
    assert error_of(response, 400) == "InvalidRequestBody"


def test_lenient_accepts_no_amount_details_and_legacy_amount(sandbox: Sandbox) -> None:
    assert sandbox.truemed_create(amount_details=None).status_code == 200
    legacy = [{"sku": "x", "name": "Visit", "amount": 15000, "quantity": 1}]
    assert sandbox.truemed_create(order_items=legacy).status_code == 200


def test_strict_requires_amount_details(make_sandbox: SandboxFactory) -> None:
    strict = make_sandbox(truemed_amount_details="strict")
    assert error_of(strict.truemed_create(amount_details=None), 400) == "MissingField"
    assert error_of(strict.truemed_create(amount_details={"total_discounts": 0}), 400) == "MissingField"
    legacy = [{"sku": "x", "name": "Visit", "amount": 15000, "quantity": 1}]
    assert error_of(strict.truemed_create(order_items=legacy), 400) == "MissingField"
    assert strict.truemed_create().status_code == 200


@pytest.mark.parametrize(
    "headers", [{}, {"x-truemed-api-key": "wrong"}, {"Authorization": "Bearer tm_key_for_tests"}]
)
def test_authentication(sandbox: Sandbox, headers: dict[str, str]) -> None:
    response = sandbox.client.post(f"{API}/create_payment_session", json=truemed_body(), headers=headers)
    assert error_of(response, 401) == "Unauthorized"
    assert error_of(sandbox.client.get(f"{API}/payment_session/x", headers=headers), 401) == "Unauthorized"


def test_unknown_session_and_route(sandbox: Sandbox) -> None:
    missing = sandbox.client.get(f"{API}/payment_session/{uuid.uuid4()}", headers=TRUEMED_AUTH)
    assert error_of(missing, 404) == "PaymentSessionDoesNotExist"
    assert error_of(sandbox.client.get(f"{API}/nothing", headers=TRUEMED_AUTH), 404) == "NotFound"


def test_same_key_same_body_returns_the_same_session(sandbox: Sandbox) -> None:
    body = truemed_body(idempotency_key="cart-1")
    first = sandbox.truemed_session(**body)
    assert sandbox.truemed_session(**body) == first
    assert len(sandbox.truemed.sessions) == 1
    assert sandbox.control("GET", "/sessions")["creates_per_idempotency_key"] == {"cart-1": 1}


def test_same_key_different_body_is_refused(sandbox: Sandbox) -> None:
    sandbox.truemed_session(idempotency_key="cart-2")
    changed = sandbox.truemed_create(idempotency_key="cart-2", customer_name="Someone Else")
    assert error_of(changed, 400) == "IdempotencyKeyReused"
    assert len(sandbox.truemed.sessions) == 1


def test_cancel_only_while_pending(sandbox: Sandbox) -> None:
    session_id = sandbox.truemed_session()["id"]
    cancel = sandbox.client.post(f"{API}/payment_session/{session_id}/cancel", headers=TRUEMED_AUTH)
    assert cancel.status_code == 200
    assert cancel.json() == {"id": session_id, "status": "canceled"}
    assert read(sandbox, session_id)["status"] == "canceled"
    again = sandbox.client.post(f"{API}/payment_session/{session_id}/cancel", headers=TRUEMED_AUTH)
    assert error_of(again, 400) == "SessionNotPending"
    # Truemed sends a webhook on every status change, cancels included.
    wait_until(lambda: len(sandbox.receiver.on("/truemed")) == 1)


def test_list_payment_sessions(sandbox: Sandbox) -> None:
    for _ in range(3):
        sandbox.truemed_session()
    listing = sandbox.client.get(f"{API}/payment_sessions", headers=TRUEMED_AUTH).json()
    assert listing["pagination"] == {"count": 3, "current_page": 1, "last_page": 1, "page_size": 30}
    assert len(listing["payment_sessions"]) == 3


# --- refunds -----------------------------------------------------------------------------------


def captured(sandbox: Sandbox) -> str:
    session_id = sandbox.truemed_session()["id"]
    sandbox.control(
        "POST",
        f"/truemed/payment_sessions/{session_id}/complete",
        json={"outcome": "captured", "delivery": "none"},
    )
    return session_id


def refund(sandbox: Sandbox, **body: Any) -> Any:
    return sandbox.client.post(f"{API}/refund", json=body, headers=TRUEMED_AUTH)


def test_partial_refunds_accumulate(sandbox: Sandbox) -> None:
    session_id = captured(sandbox)
    first = refund(
        sandbox, amount=5000, idempotency_key="r1", payment_id=session_id, reason="customer_request"
    )
    assert first.status_code == 200
    uuid.UUID(first.json()["refund_id"])
    assert read(sandbox, session_id)["status_summary"] == "Partially Refunded"
    assert read(sandbox, session_id)["status"] == "captured"
    replay = refund(
        sandbox, amount=5000, idempotency_key="r1", payment_id=session_id, reason="customer_request"
    )
    assert replay.json() == first.json()
    too_much = refund(
        sandbox, amount=10001, idempotency_key="r2", payment_id=session_id, reason="duplicate_payment"
    )
    assert error_of(too_much, 400) == "AmountInvalid"
    rest = refund(sandbox, amount=10000, idempotency_key="r3", payment_id=session_id, reason="fraudulent")
    assert rest.status_code == 200
    session = read(sandbox, session_id)
    assert (session["status"], session["status_summary"]) == ("captured", "Refunded")
    [row] = sandbox.control("GET", "/sessions")["sessions"]
    assert row["refunded_amount"] == 15000  # the control listing shows it; Truemed's API does not
    changed = refund(
        sandbox, amount=1, idempotency_key="r1", payment_id=session_id, reason="customer_request"
    )
    assert error_of(changed, 400) == "IdempotencyKeyReused"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"idempotency_key": "k", "reason": "customer_request"}, "MissingField"),
        ({"amount": 100, "reason": "customer_request"}, "MissingField"),
        ({"amount": 100, "idempotency_key": "k"}, "MissingField"),
        ({"amount": 100, "idempotency_key": "k", "reason": "because"}, "InvalidField"),
        ({"amount": 0, "idempotency_key": "k", "reason": "customer_request"}, "AmountInvalid"),
        ({"amount": "100", "idempotency_key": "k", "reason": "customer_request"}, "AmountInvalid"),
    ],
)
def test_refund_errors(sandbox: Sandbox, body: dict[str, Any], code: str) -> None:
    session_id = captured(sandbox)
    assert error_of(refund(sandbox, payment_id=session_id, **body), 400) == code


def test_refund_needs_a_known_captured_session(sandbox: Sandbox) -> None:
    body = {"amount": 100, "idempotency_key": "k", "reason": "customer_request"}
    assert error_of(refund(sandbox, payment_id=str(uuid.uuid4()), **body), 400) == "InvalidPaymentId"
    pending = sandbox.truemed_session()["id"]
    assert error_of(refund(sandbox, payment_id=pending, **body), 400) == "NoSessionCaptures"
