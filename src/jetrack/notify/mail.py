"""Send one mail over SMTP (aiosmtplib), text and HTML; without a server, log that it was not."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from jetrack.config import Settings

log = logging.getLogger("jetrack.mail")


def build_message(settings: Settings, to: str, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="jetrack.invalid")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


async def send_mail(settings: Settings, to: str, subject: str, text: str, html: str) -> bool:
    """True when the SMTP server accepted the mail. Never logs the body or the recipient."""
    if not settings.smtp_host:
        log.info("mail not sent (JETRACK_SMTP_HOST is unset): %s", subject)
        return False
    message = build_message(settings, to, subject, text, html)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            start_tls=settings.smtp_starttls,
            use_tls=False,
            timeout=15,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning("mail not sent (%s): %s", type(exc).__name__, subject)
        return False
    log.debug("mail sent: %s", subject)
    return True
