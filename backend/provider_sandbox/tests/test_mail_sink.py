"""The mail sink: real SMTP in (smtplib to aiosmtpd on a free port), the pages and JSON contract out."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from provider_sandbox.mail.mailbox import MAX_MESSAGES, Mailbox
from provider_sandbox.mail.sink import MailSink
from provider_sandbox.tests.helpers import Sandbox
from testing.net import free_port

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a@b\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"


@pytest.fixture
def smtp(sandbox: Sandbox) -> Iterator[int]:
    """A real SMTP sink on a free port, storing into the in-process sandbox's mailbox."""
    port = free_port()
    with MailSink(sandbox.state.store(Mailbox), host="127.0.0.1", port=port):
        yield port


def message(
    subject: str, *, to: str = "jane@example.com", html: bool = True, ics: bool = True
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Sofia Health <appointments@sofia.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("Hello Jane,\nyour visit: http://127.0.0.1:5173/appointments/1/manage#token=abc\n")
    if html:
        msg.add_alternative("<p>Hello <b>Jane</b></p><script>alert(1)</script>", subtype="html")
    if ics:
        msg.add_attachment(ICS, maintype="text", subtype="calendar", filename="appointment.ics")
    return msg


def send(port: int, msg: EmailMessage, *, bcc: list[str] | None = None) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        recipients = [str(msg["To"]), *(bcc or [])]
        client.send_message(msg, to_addrs=recipients)


def test_a_real_smtp_message_is_listed_with_its_parts_newest_first(sandbox: Sandbox, smtp: int) -> None:
    send(smtp, message("First"))
    send(smtp, message("Second", html=False, ics=False), bcc=["clinic@example.com"])

    response = sandbox.client.get("/_sandbox/emails.json")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    emails = response.json()["emails"]
    assert [e["subject"] for e in emails] == ["Second", "First"]
    second, first = emails
    assert set(first) == {"id", "from", "to", "subject", "received_at", "text", "html", "attachments"}
    assert first["from"] == "Sofia Health <appointments@sofia.test>"
    assert first["to"] == ["jane@example.com"]
    assert second["to"] == ["jane@example.com", "clinic@example.com"]  # the envelope: Bcc included
    assert "your visit: http://127.0.0.1:5173/appointments/1/manage#token=abc" in first["text"]
    assert "<b>Jane</b>" in first["html"]
    assert first["attachments"] == [
        {"filename": "appointment.ics", "content_type": "text/calendar", "size": len(ICS)}
    ]
    assert first["received_at"].endswith("Z")
    assert second["html"] == ""
    assert second["attachments"] == []


def test_the_pages_show_each_message_its_parts_and_attachments(sandbox: Sandbox, smtp: int) -> None:
    send(smtp, message("Your appointment is confirmed"))
    email_id = sandbox.client.get("/_sandbox/emails.json").json()["emails"][0]["id"]

    listing = sandbox.client.get("/_sandbox/emails")
    assert listing.status_code == 200
    assert "Your appointment is confirmed" in listing.text
    assert f'href="/_sandbox/emails/{email_id}"' in listing.text
    assert "appointment.ics" in listing.text

    page = sandbox.client.get(f"/_sandbox/emails/{email_id}")
    assert page.status_code == 200
    # The HTML part is shown escaped inside a sandboxed frame: its script cannot run on this origin.
    assert "<iframe" in page.text
    assert " sandbox " in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    # Links from the text part are clickable (the demo opens the manage link from here).
    assert 'href="http://127.0.0.1:5173/appointments/1/manage#token=abc"' in page.text

    attachment = sandbox.client.get(f"/_sandbox/emails/{email_id}/attachments/0")
    assert attachment.status_code == 200
    assert attachment.content == ICS
    assert attachment.headers["content-type"].startswith("text/calendar")
    assert attachment.headers["content-disposition"] == 'attachment; filename="appointment.ics"'

    raw = sandbox.client.get(f"/_sandbox/emails/{email_id}.eml")
    assert raw.status_code == 200
    assert b"Subject: Your appointment is confirmed" in raw.content

    assert sandbox.client.get("/_sandbox/emails/nope").status_code == 404
    assert sandbox.client.get(f"/_sandbox/emails/{email_id}/attachments/1").status_code == 404


def test_delete_and_reset_clear_the_list(sandbox: Sandbox, smtp: int) -> None:
    send(smtp, message("One"))
    assert sandbox.client.delete("/_sandbox/emails.json").json() == {"emails": []}
    assert sandbox.client.get("/_sandbox/emails.json").json() == {"emails": []}
    assert "No emails yet" in sandbox.client.get("/_sandbox/emails").text

    send(smtp, message("Two"))
    sandbox.control("POST", "/reset")
    assert sandbox.client.get("/_sandbox/emails.json").json() == {"emails": []}


def test_the_mailbox_keeps_only_the_newest_messages() -> None:
    assert Mailbox().limit == MAX_MESSAGES
    mailbox = Mailbox(limit=3)
    for n in range(5):
        raw = message(f"n{n}", html=False, ics=False).as_bytes()
        mailbox.receive(raw, envelope_from="a@b", recipients=["c@d"])
    assert [m.subject for m in mailbox.messages()] == ["n4", "n3", "n2"]


def test_a_taken_port_is_an_error_at_start(sandbox: Sandbox, smtp: int) -> None:
    with pytest.raises(OSError, match=r"."):
        MailSink(Mailbox(), host="127.0.0.1", port=smtp).start()
