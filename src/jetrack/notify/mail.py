"""Send one mail over SMTP (aiosmtplib), text and HTML; without a server, print it to the log.

Without SMTP the operator still needs the links (password reset, invitations): the mails are
the instance's own account mails, so printing their text part is how they reach anyone."""

from __future__ import annotations

import logging
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid, parseaddr

import aiosmtplib

from jetrack.config import Settings

log = logging.getLogger("jetrack.mail")


# Header lines up to RFC 5322's 998 characters: with the default 78, a long URL header
# (List-Unsubscribe) is folded into RFC 2047 encoded words, which mail clients do not read
# as a URL.
# (aiosmtplib would flatten with its own 78: the message goes to it as bytes.)
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


def build_message(settings: Settings, to: str, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="jetrack.invalid")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def log_unsent(subject: str, text: str) -> None:
    """One log line per line of the mail (the log formatter escapes line breaks). The
    recipient's address stays out of the log; the text names the person where it matters."""
    log.warning("mail not sent (JETRACK_SMTP_HOST is unset), its text follows")
    log.warning("mail | Subject: %s", subject)
    for line in text.splitlines():
        log.warning("mail | %s", line)
    log.warning("mail | (end of mail)")


class MailNotSent(Exception):
    """The SMTP server could not be reached or refused the mail (a job retries it)."""


async def send_message(settings: Settings, message: EmailMessage) -> None:
    """Hand `message` to the SMTP server; MailNotSent when that fails. Needs smtp_host."""
    assert settings.smtp_host, "send_message needs JETRACK_SMTP_HOST"
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            message.as_bytes(policy=MAIL_POLICY),
            sender=parseaddr(str(message["From"]))[1],
            recipients=[address for _, address in getaddresses([str(message["To"])])],
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            start_tls=settings.smtp_starttls,
            use_tls=False,
            timeout=15,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise MailNotSent(type(exc).__name__) from None


async def smtp_answers(settings: Settings, timeout: float = 3.0) -> bool:
    """The SMTP server takes a connection and answers EHLO and NOOP (no log-in, no mail):
    what /api/health reports. Needs smtp_host."""
    assert settings.smtp_host, "smtp_answers needs JETRACK_SMTP_HOST"
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host, port=settings.smtp_port, timeout=timeout, start_tls=False
    )
    try:
        await client.connect()
        await client.noop()
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
        return False
    return True


async def send_mail(settings: Settings, to: str, subject: str, text: str, html: str) -> bool:
    """True when the SMTP server accepted the mail. With SMTP, never logs the body or the
    recipient; without it, logs the subject and text part (not the recipient)."""
    if not settings.smtp_host:
        log_unsent(subject, text)
        return False
    try:
        await send_message(settings, build_message(settings, to, subject, text, html))
    except MailNotSent as exc:
        log.warning("mail not sent (%s): %s", exc, subject)
        return False
    log.debug("mail sent: %s", subject)
    return True
