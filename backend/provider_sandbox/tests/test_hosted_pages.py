"""Hosted pages: accessible plain-HTML forms that drive the same state changes and webhooks."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest

from provider_sandbox.tests.helpers import TRUEMED_AUTH, Sandbox
from testing.net import wait_until


@dataclass
class Page:
    lang: str | None = None
    has_main: bool = False
    h1: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # input id -> label text
    inputs: set[str] = field(default_factory=set)
    buttons: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    text: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self._open: list[tuple[str, dict[str, str | None]]] = []
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.page.lang = a.get("lang")
        if tag == "main":
            self.page.has_main = True
        if tag in {"input", "select", "textarea"} and a.get("id"):
            self.page.inputs.add(str(a["id"]))
        if tag in {"h1", "label", "button", "a"} or (a.get("role") == "alert"):
            self._open.append((tag if a.get("role") != "alert" else "alert", a))
            self._buffer = []

    def handle_data(self, data: str) -> None:
        self._buffer.append(data)
        self.page.text += data

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            return
        kind, attrs = self._open[-1]
        if tag != kind and not (kind == "alert" and tag == "div"):
            return
        self._open.pop()
        text = " ".join("".join(self._buffer).split())
        if kind == "h1":
            self.page.h1 = text
        elif kind == "label":
            self.page.labels[str(attrs.get("for"))] = text
        elif kind == "button":
            self.page.buttons.append(text)
        elif kind == "a":
            self.page.links.append((text, str(attrs.get("href"))))
        elif kind == "alert":
            self.page.alerts.append(text)


def read_page(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    page = reader.page
    # Every form control has a label pointing at it.
    assert page.inputs <= set(page.labels), page.inputs - set(page.labels)
    return page


def accessible(page: Page) -> None:
    assert page.lang == "en"
    assert page.has_main
    assert page.h1


def path_of(url: str) -> str:
    return url.removeprefix("http://sandbox.test")


# --- Stripe ------------------------------------------------------------------------------------


def test_stripe_page_shows_amount_item_and_named_controls(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session()
    response = sandbox.client.get(path_of(session["url"]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = read_page(response.text)
    accessible(page)
    assert page.h1 == "Pay $150.00"
    assert "Initial consultation (60 min) with Dr. Ana Reyes" in page.text
    assert page.labels["card_number"] == "Card number"
    assert page.buttons == ["Pay", "Cancel"]


def test_stripe_pay_with_the_success_card(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session()
    response = sandbox.client.post(
        f"{path_of(session['url'])}/pay", data={"card_number": "4242 4242 4242 4242"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"http://127.0.0.1:5173/checkout/return?x=1&session_id={session['id']}"
    )
    stored = sandbox.stripe.sessions[session["id"]]
    assert (stored.status, stored.payment_status) == ("complete", "paid")
    wait_until(lambda: len(sandbox.receiver.on("/stripe")) == 1)
    assert json.loads(sandbox.receiver.on("/stripe")[0].body)["type"] == "checkout.session.completed"
    # The old link now says it is paid and links back.
    page = read_page(sandbox.client.get(path_of(session["url"])).text)
    assert page.h1 == "Payment complete"


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("4000 0000 0000 0002", "Your card was declined."),
        ("4000000000009995", "Your card has insufficient funds."),
        ("1234 5678", "Your card number is invalid."),
        ("5555 5555 5555 4444", "used a non test card"),
    ],
)
def test_stripe_declined_card_stays_open(sandbox: Sandbox, card: str, message: str) -> None:
    session = sandbox.stripe_session()
    response = sandbox.client.post(f"{path_of(session['url'])}/pay", data={"card_number": card})
    assert response.status_code == 200
    page = read_page(response.text)
    accessible(page)
    assert any(message in alert for alert in page.alerts), page.alerts
    assert page.buttons == ["Pay", "Cancel"]  # the shopper can retry or cancel
    assert sandbox.stripe.sessions[session["id"]].status == "open"
    retry = sandbox.client.post(f"{path_of(session['url'])}/pay", data={"card_number": "4242424242424242"})
    assert retry.status_code == 303
    wait_until(lambda: len(sandbox.receiver.on("/stripe")) == 1)
    assert len(sandbox.receiver.on("/stripe")) == 1  # no webhook for the decline


def test_stripe_cancel_returns_to_cancel_url_and_keeps_the_session_open(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session()
    response = sandbox.client.post(f"{path_of(session['url'])}/cancel")
    assert response.status_code == 303
    assert response.headers["location"] == "http://127.0.0.1:5173/checkout/cancelled?x=1"
    assert sandbox.stripe.sessions[session["id"]].status == "open"


def test_stripe_expired_page_times_out(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session()
    sandbox.control("POST", f"/stripe/sessions/{session['id']}/complete", json={"outcome": "expired"})
    page = read_page(sandbox.client.get(path_of(session["url"])).text)
    accessible(page)
    assert "timed out" in page.h1
    assert page.links == [("Return to the merchant", "http://127.0.0.1:5173/checkout/cancelled?x=1")]
    pay = sandbox.client.post(f"{path_of(session['url'])}/pay", data={"card_number": "4242424242424242"})
    assert "timed out" in read_page(pay.text).h1
    assert sandbox.stripe.sessions[session["id"]].payment_status == "unpaid"


def test_unknown_page_is_404(sandbox: Sandbox) -> None:
    assert sandbox.client.get("/pay/stripe/cs_test_nope").status_code == 404
    assert sandbox.client.get("/pay/truemed/nope").status_code == 404


# --- Truemed -----------------------------------------------------------------------------------


def survey_then_pay_page(sandbox: Sandbox, session: dict[str, Any]) -> Page:
    path = path_of(session["redirect_url"])
    survey = read_page(sandbox.client.get(path).text)
    accessible(survey)
    assert survey.buttons == ["Continue", "Cancel"]
    assert survey.labels["reason"] == "Main reason for your visit"
    assert "$150.00" in survey.text
    assert "Initial consultation" in survey.text
    step = sandbox.client.post(f"{path}/survey", data={"reason": "Stress", "recommended": "yes"})
    assert step.status_code == 303
    pay = read_page(sandbox.client.get(step.headers["location"]).text)
    accessible(pay)
    assert pay.h1 == "Pay $150.00 with your HSA/FSA card"
    assert pay.buttons == ["Pay with HSA/FSA card", "Simulate rejection", "Cancel"]
    return pay


def test_truemed_survey_pay_then_captured_after_the_delay(make_sandbox: Any) -> None:
    # A delay long enough that "processing" is still there when the next line looks on a loaded machine
    # (0.05 s was not: the capture sometimes came first).
    sandbox = make_sandbox(truemed_capture_delay_seconds=1.0)
    session = sandbox.truemed_session()
    survey_then_pay_page(sandbox, session)
    started = time.monotonic()
    response = sandbox.client.post(f"{path_of(session['redirect_url'])}/pay", data={"action": "pay"})
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"truemed_session_id={session['id']}")
    assert sandbox.truemed.sessions[session["id"]].status == "processing"
    wait_until(lambda: len(sandbox.receiver.on("/truemed")) == 2)
    assert time.monotonic() - started >= 1.0  # SANDBOX_TRUEMED_CAPTURE_DELAY_SECONDS in this test
    assert [json.loads(r.body)["status"] for r in sandbox.receiver.on("/truemed")] == [
        "processing",
        "captured",
    ]
    assert sandbox.truemed.sessions[session["id"]].status == "captured"
    # The old link now says what happened (not "under review" any more).
    assert read_page(sandbox.client.get(path_of(session["redirect_url"])).text).h1 == "Payment complete"


def test_truemed_simulated_rejection(sandbox: Sandbox) -> None:
    session = sandbox.truemed_session()
    survey_then_pay_page(sandbox, session)
    response = sandbox.client.post(f"{path_of(session['redirect_url'])}/pay", data={"action": "reject"})
    assert response.status_code == 303
    wait_until(lambda: len(sandbox.receiver.on("/truemed")) == 2)
    assert [json.loads(r.body)["status"] for r in sandbox.receiver.on("/truemed")] == [
        "processing",
        "rejected",
    ]
    page = read_page(sandbox.client.get(path_of(session["redirect_url"])).text)
    assert page.h1 == "HSA/FSA payment not approved"


def test_truemed_cancel_returns_to_failure_url_and_the_session_stays_pending(sandbox: Sandbox) -> None:
    """Truemed's `canceled` is the cancel API's: a shopper who leaves changes nothing, and no webhook."""
    session = sandbox.truemed_session()
    path = path_of(session["redirect_url"])
    for step_path in (path, f"{path}?step=pay"):  # the Cancel button of both steps
        sandbox.client.get(step_path)
        response = sandbox.client.post(f"{path}/cancel")
        assert response.status_code == 303
        assert response.headers["location"] == "http://127.0.0.1:5173/checkout/cancelled?x=1"
    stored = sandbox.truemed.sessions[session["id"]]
    assert (stored.status, stored.shopper_cancels) == ("pending", 2)
    assert stored.events == []
    assert sandbox.state.background == set()  # nothing is on its way either
    assert sandbox.receiver.on("/truemed") == []
    # The link still works: the shopper may come back and pay.
    assert read_page(sandbox.client.get(path).text).buttons == ["Continue", "Cancel"]
    row = next(r for r in sandbox.control("GET", "/sessions")["sessions"] if r["id"] == session["id"])
    assert (row["status"], row["shopper_cancels"]) == ("pending", 2)


def test_truemed_cancel_without_failure_url_shows_a_notice(sandbox: Sandbox) -> None:
    session = sandbox.truemed_session(failure_url=None)
    page = read_page(sandbox.client.post(f"{path_of(session['redirect_url'])}/cancel").text)
    accessible(page)
    assert page.h1 == "Payment not completed"
    assert sandbox.truemed.sessions[session["id"]].status == "pending"


def test_truemed_canceled_through_the_api_then_old_link_times_out(sandbox: Sandbox) -> None:
    session = sandbox.truemed_session()
    cancel = sandbox.client.post(
        f"/truemed/payments/v1/payment_session/{session['id']}/cancel", headers=TRUEMED_AUTH
    )
    assert cancel.status_code == 200
    wait_until(lambda: len(sandbox.receiver.on("/truemed")) == 1)
    page = read_page(sandbox.client.get(path_of(session["redirect_url"])).text)
    assert "timed out" in page.h1
    assert page.links == [("Return to the merchant", "http://127.0.0.1:5173/checkout/cancelled?x=1")]


def test_truemed_pay_step_needs_the_survey_first(sandbox: Sandbox) -> None:
    session = sandbox.truemed_session()
    page = read_page(sandbox.client.get(f"{path_of(session['redirect_url'])}?step=pay").text)
    assert page.buttons == ["Continue", "Cancel"]


def test_control_capture_wins_over_a_pending_review(make_sandbox: Any) -> None:
    # The control call must come while the review is pending: 0.3 s was sometimes too short under load.
    sandbox = make_sandbox(truemed_capture_delay_seconds=2.0)
    session = sandbox.truemed_session()
    sandbox.client.post(f"{path_of(session['redirect_url'])}/pay", data={"action": "reject"})
    sandbox.control(
        "POST", f"/truemed/payment_sessions/{session['id']}/complete", json={"outcome": "captured"}
    )
    wait_until(lambda: not sandbox.state.background)
    assert sandbox.truemed.sessions[session["id"]].status == "captured"
