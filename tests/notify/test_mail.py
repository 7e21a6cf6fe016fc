"""notify/mail.py: a mail through a real SMTP server on loopback (aiosmtpd), and the ways
it is not sent. The recipient and the body never reach the log."""

from __future__ import annotations

import asyncio
import logging

import pytest

from jetrack.config import Settings
from jetrack.notify.mail import send_mail
from tests.conftest import Inbox, free_port

TEXT = "Your export is ready: https://jetrack.example/account/exports"
HTML = '<p>Your export is <a href="https://jetrack.example/account/exports">ready</a>.</p>'


def send(settings: Settings, to: str = "ada@example.com", subject: str = "Export ready") -> bool:
    return asyncio.run(send_mail(settings, to, subject, TEXT, HTML))


def test_a_mail_arrives_with_its_headers_and_both_parts(
    settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    mailing = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "mail_from": "Jetrack <noreply@jetrack.example>",
        }
    )
    assert send(mailing) is True
    message = inbox.last_to("ada@example.com")
    assert message["From"] == "Jetrack <noreply@jetrack.example>"
    assert message["Subject"] == "Export ready"
    assert str(message["Message-ID"]).endswith("@jetrack.invalid>")
    assert message.get_content_type() == "multipart/alternative"
    assert inbox.text(message).strip() == TEXT
    assert inbox.html(message).strip() == HTML
    # Two mails, two Message-IDs: a client threading by ID keeps them apart.
    assert send(mailing, subject="Second") is True
    assert len(inbox.messages) == 2
    assert inbox.messages[0]["Message-ID"] != inbox.messages[1]["Message-ID"]


def test_an_unreachable_server_is_a_false_and_a_warning_without_the_recipient(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    nobody_listens = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": free_port()}
    )
    with caplog.at_level(logging.DEBUG, logger="jetrack.mail"):
        assert send(nobody_listens, to="secret-person@example.com") is False
    assert "mail not sent" in caplog.text and "Export ready" in caplog.text
    assert "secret-person" not in caplog.text and "export is ready" not in caplog.text


def test_starttls_against_a_server_without_tls_is_not_sent(
    settings: Settings, smtp: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    inbox, port = smtp
    insisting = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": True}
    )
    with caplog.at_level(logging.WARNING, logger="jetrack.mail"):
        assert send(insisting) is False
    assert inbox.messages == []  # never in clear text when TLS was asked for
    assert "mail not sent" in caplog.text
