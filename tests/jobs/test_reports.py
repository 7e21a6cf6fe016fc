"""jobs/reports.py: when reports are due, their numbers against the Stats API's over HTTP,
and their delivery through the queue to a real SMTP server on loopback: once per
(site, period, recipient), retried after an SMTP failure."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from babel import Locale
from sqlalchemy import select, update

from jetrack.accounts.users import create_user
from jetrack.config import Settings
from jetrack.demo import seed_demo
from jetrack.jobs import reports, runner
from jetrack.notify.alerts import AlertFacts, alert_message
from jetrack.privacy.restriction import set_restricted
from jetrack.sites import report_recipients
from jetrack.store import job_queue
from jetrack.store.job_queue import PAUSE_AFTER_STEP_ENV
from jetrack.store.models import Job, ReportRecipient, Site, User, utcnow
from jetrack.store.stores import Stores, open_stores
from tests.conftest import Inbox, LiveServer, copy_template, free_port, make_settings, start_server

BERLIN = "Europe/Berlin"


@pytest.mark.parametrize(
    ("period", "timezone", "now", "due"),
    [
        # Monday 09:00 in Berlin is 08:00 UTC in winter: due from then on, for the week before.
        ("week", BERLIN, "2026-11-30T07:59", None),
        ("week", BERLIN, "2026-11-30T08:00", ("2026-11-23", "2026-11-29")),
        ("week", BERLIN, "2026-12-02T07:59", ("2026-11-23", "2026-11-29")),
        ("week", BERLIN, "2026-12-02T08:01", None),  # more than 2 days late: skipped
        # Auckland is a day ahead: its Monday 09:00 is Sunday 20:00 UTC.
        ("week", "Pacific/Auckland", "2026-11-29T20:00", ("2026-11-23", "2026-11-29")),
        ("week", "America/Los_Angeles", "2026-11-30T16:59", None),
        ("week", "America/Los_Angeles", "2026-11-30T17:00", ("2026-11-23", "2026-11-29")),
        ("month", BERLIN, "2026-12-01T08:00", ("2026-11-01", "2026-11-30")),
        ("month", BERLIN, "2026-12-01T07:00", None),
        ("month", "UTC", "2026-03-01T09:00", ("2026-02-01", "2026-02-28")),
        # DST: 1 April in Berlin is summer time, 09:00 is 07:00 UTC.
        ("month", BERLIN, "2026-04-01T07:00", ("2026-03-01", "2026-03-31")),
        ("month", "UTC", "2027-01-01T09:30", ("2026-12-01", "2026-12-31")),
    ],
)
def test_due_period(period: str, timezone: str, now: str, due: tuple[str, str] | None) -> None:
    moment = datetime.fromisoformat(now).replace(tzinfo=UTC)
    found = reports.due_period(period, timezone, moment)
    expected = (date.fromisoformat(due[0]), date.fromisoformat(due[1])) if due else None
    assert found == expected


# --- Delivery through the queue ----------------------------------------------------------------


def _mailing(tmp_path: Path, port: int) -> Settings:
    return make_settings(
        tmp_path / "data", smtp_host="127.0.0.1", smtp_port=port,
        base_url="https://stats.example",
    )  # fmt: skip


def _with_recipients(stores: Stores, domain: str, emails: list[str]) -> int:
    """A site in Berlin with a few events and confirmed weekly recipients; its id."""
    with stores.control.session() as session:
        owner = session.scalars(select(User)).first()
        site = session.scalars(select(Site).where(Site.domain == domain)).one()
        assert owner is not None
        for email in emails:
            row = report_recipients.add_outside(session, site, owner, email, "week")
            row.confirmed_at = utcnow()
        return site.id


@pytest.fixture
def small(
    tmp_path: Path, smtp: tuple[Inbox, int], data_dir_template: Path
) -> Iterator[tuple[Stores, Inbox, int]]:
    settings = _mailing(tmp_path, smtp[1])
    copy_template(data_dir_template, settings)
    stores = open_stores(settings)
    seed_demo(stores, "small.example", "owner@small.example", days=20, visitors_per_day=5,
              timezone=BERLIN, now=SEEDED_UNTIL)  # fmt: skip
    site_id = _with_recipients(stores, "small.example", ["a@client.example", "b@client.example"])
    try:
        yield stores, smtp[0], site_id
    finally:
        stores.close()


MONDAY_0905_BERLIN = datetime(2026, 11, 30, 8, 5, tzinfo=UTC)
# The demo's visits end then, whatever the day the tests run: the reports' week is in them.
SEEDED_UNTIL = int(MONDAY_0905_BERLIN.timestamp())


def test_each_recipient_gets_the_weekly_report_once(
    small: tuple[Stores, Inbox, int],
) -> None:
    stores, inbox, site_id = small
    for _ in range(3):  # the runner schedules every few seconds
        runner.run_pending(stores, kinds=("reports", "report_mail"), now=MONDAY_0905_BERLIN)
    for to in ("a@client.example", "b@client.example"):
        [message] = inbox.to(to)
        assert message["Subject"].startswith("Weekly report for small.example, 23–29 Nov 2026:")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = message["List-Unsubscribe"].strip("<>")
        assert url.startswith("https://stats.example/reports/unsubscribe?token=")
        # On the wire as RFC 2369 writes it: the URL in angle brackets, on one line, not
        # folded into RFC 2047 encoded words (which mail clients do not decode there).
        raw = dict(message.raw_items())
        assert raw["List-Unsubscribe"] == f"<{url}>"
        assert url in inbox.text(message) and url in inbox.html(message)
        assert (
            message["Message-ID"]
            == f"<report_mail.{site_id}.week.2026-11-23.{_id(stores, to)}@jetrack.invalid>"
        )
    with stores.control.session() as session:
        kinds = [job.kind for job in session.scalars(select(Job).where(Job.kind.like("report%")))]
    assert sorted(kinds) == ["report_mail", "report_mail", "reports"]


def _id(stores: Stores, email: str) -> int:
    with stores.control.session() as session:
        return session.scalars(
            select(ReportRecipient.id).where(ReportRecipient.email == email)
        ).one()


def test_unconfirmed_and_removed_recipients_get_nothing(
    small: tuple[Stores, Inbox, int],
) -> None:
    stores, inbox, site_id = small
    with stores.control.session() as session:
        site = session.get(Site, site_id)
        owner = session.scalars(select(User)).first()
        assert site is not None and owner is not None
        report_recipients.add_outside(session, site, owner, "pending@client.example", "week")
        session.execute(
            update(ReportRecipient)
            .where(ReportRecipient.email == "b@client.example")
            .values(confirmed_at=None)
        )
    runner.run_pending(stores, kinds=("reports", "report_mail"), now=MONDAY_0905_BERLIN)
    assert [m["To"] for m in inbox.messages] == ["a@client.example"]


def test_an_smtp_failure_is_retried_with_backoff_and_sent_once(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    closed = free_port()  # nothing listens here
    stores = open_stores(_mailing(tmp_path, closed))
    try:
        seed_demo(stores, "small.example", "owner@small.example", days=10, visitors_per_day=3,
                  timezone=BERLIN, now=SEEDED_UNTIL)  # fmt: skip
        _with_recipients(stores, "small.example", ["a@client.example"])
        runner.run_pending(stores, kinds=("reports", "report_mail"), now=MONDAY_0905_BERLIN)
        with stores.control.session() as session:
            job = session.scalars(select(Job).where(Job.kind == "report_mail")).one()
            assert (job.state, job.attempts) == ("queued", 1)
            assert job.error.startswith("MailNotSent")
            wait = reports_wait(job.run_after)
            assert timedelta(minutes=1) < wait <= timedelta(minutes=2)
            job.run_after = utcnow() - timedelta(seconds=1)  # the backoff has passed
    finally:
        stores.close()
    stores = open_stores(_mailing(tmp_path, port))  # the SMTP server is back
    try:
        runner.run_pending(stores, kinds=("reports", "report_mail"), now=MONDAY_0905_BERLIN)
        runner.run_pending(stores, kinds=("reports", "report_mail"), now=MONDAY_0905_BERLIN)
        assert len(inbox.to("a@client.example")) == 1
        with stores.control.session() as session:
            job = session.scalars(select(Job).where(Job.kind == "report_mail")).one()
            assert (job.state, job.attempts) == ("done", 2)
    finally:
        stores.close()


def test_each_recipient_gets_the_report_in_their_language(
    small: tuple[Stores, Inbox, int],
) -> None:
    """An address with an account gets its saved language; another one the language of
    whoever added it (here the owner, French); alerts follow the same rule."""
    stores, inbox, site_id = small
    with stores.control.session() as session:
        site = session.get(Site, site_id)
        assert site is not None
        site.owner.locale = "fr"
        create_user(session, "a@client.example", name="A").locale = "de"
        german = session.scalars(
            select(ReportRecipient).where(ReportRecipient.email == "a@client.example")
        ).one()
        assert reports.mail_language(session, _recipient(german)) == "de"
    runner.run_pending(stores, kinds=("reports", "report_mail"), now=MONDAY_0905_BERLIN)
    [mail] = inbox.to("a@client.example")
    assert mail["Subject"].startswith("Wochenbericht für small.example, 23.–29. Nov. 2026: ")
    text = inbox.text(mail)
    for shown in ("Besucher pro Tag", "Absprungrate", "Zeiten in Europe/Berlin",
                  "Sie erhalten diesen Wochenbericht, weil Sie ihn für small.example"):  # fmt: skip
        assert shown in text
    assert '<html lang="de">' in inbox.html(mail) and "Abbestellen" in inbox.html(mail)
    # Countries in the reader's language; the webhook's JSON keeps the stats engine's names.
    in_german, in_english = Locale("de").territories, Locale("en").territories
    countries = text.split("Top-Länder", 1)[1].split("\n\n", 1)[0]
    assert in_german["DE"] in countries and in_german["US"] in countries
    assert in_english["DE"] not in countries and in_english["US"] not in countries
    [french] = inbox.to("b@client.example")
    assert french["Subject"].startswith("Rapport hebdomadaire de small.example")
    assert "Visiteurs par jour" in inbox.text(french)
    facts = AlertFacts("stopped", "small.example", BERLIN, "2026-11-30T08:20:00+00:00", 9, 3)
    alert = alert_message(stores.settings, "a@client.example", facts, "https://u", "<a@b>", "de")
    assert alert["Subject"] == "Das Tracking auf small.example scheint ausgefallen zu sein"
    assert "small.example hat seit 9 Stunden keine Ereignisse erhalten." in inbox.text(alert)
    assert "Mo., 30. Nov. 2026, 09:20 (Europe/Berlin)" in inbox.text(alert)


def _recipient(row: ReportRecipient) -> report_recipients.Recipient:
    return report_recipients.Recipient(row.id, row.site_id, row.email, row.kind, row.user_id)


def reports_wait(run_after: datetime) -> timedelta:
    moment = run_after if run_after.tzinfo else run_after.replace(tzinfo=UTC)
    return moment - utcnow()


# --- A runner killed in the middle ---------------------------------------------------------------


def _wait_for(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for {what}")


RECIPIENTS = ["a@client.example", "b@client.example", "c@client.example"]


def _seed_due_reports(stores: Stores) -> None:
    """A site with three confirmed weekly recipients, and its report for the week of
    23 November queued as the scheduler queues it."""
    seed_demo(stores, "small.example", "owner@small.example", days=20, visitors_per_day=5,
              timezone=BERLIN, now=SEEDED_UNTIL)  # fmt: skip
    site_id = _with_recipients(stores, "small.example", RECIPIENTS)
    with stores.control.session() as session:
        job_queue.enqueue(
            session, "reports", {"site_id": site_id, "period": "week", "first": "2026-11-23"},
            dedup_key=f"reports:{site_id}:week:2026-11-23",
        )  # fmt: skip
        # The server schedules by the clock: a week whose report is due now (Monday 09:00
        # to Wednesday 09:00 in Berlin) counts as sent, or its mails would join these.
        due = reports.due_period("week", BERLIN, utcnow())
        if due is not None:
            done = job_queue.enqueue(session, "reports", {},
                                     dedup_key=f"reports:{site_id}:week:{due[0].isoformat()}")  # fmt: skip
            assert done is not None
            done.state = "done"


@pytest.mark.slow
@pytest.mark.server
def test_a_killed_runner_sends_each_report_exactly_once_after_restart(
    live_server_factory: Callable[..., LiveServer], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    mail_env = {"JETRACK_SMTP_HOST": "127.0.0.1", "JETRACK_SMTP_PORT": str(port)}
    # The first mail's job stops for an hour right after its send was recorded: killed there.
    server = live_server_factory(_seed_due_reports, {**mail_env, PAUSE_AFTER_STEP_ENV: "send"})
    _wait_for(lambda: "job paused after step send" in server.log_text(), "the first send")
    assert len(inbox.messages) == 1
    server.stop(signal.SIGKILL)

    again = start_server(server.data_dir, mail_env)
    try:
        _wait_for(lambda: len(inbox.messages) >= len(RECIPIENTS), "the other reports")
        _wait_for(lambda: _report_jobs_left(again) == 0, "the report jobs to finish")
        time.sleep(runner.POLL_SECONDS + 1)  # a further round of the runner sends nothing
    finally:
        again.stop()
    assert sorted(str(m["To"]) for m in inbox.messages) == RECIPIENTS
    assert len({str(m["Message-ID"]) for m in inbox.messages}) == len(RECIPIENTS)
    stores = open_stores(make_settings(server.data_dir))
    try:
        with stores.control.session() as session:
            jobs = session.scalars(select(Job).where(Job.kind == "report_mail")).all()
            assert sorted(job.state for job in jobs) == ["done"] * len(RECIPIENTS)
            assert all(job.payload["done"] == ["send"] for job in jobs)
    finally:
        stores.close()


def _report_jobs_left(server: LiveServer) -> int:
    """Mail jobs the restarted server has not finished yet, read from its log (it holds the
    data dir): all three, the killed one included (it resumes after its recorded send)."""
    return len(RECIPIENTS) - server.log_text().count("(report_mail) done")


def test_while_the_owner_restricts_processing_only_the_owner_gets_reports(
    small: tuple[Stores, Inbox, int],
) -> None:
    stores, inbox, site_id = small
    with stores.control.session() as session:
        site = session.get(Site, site_id)
        assert site is not None
        owner = site.owner
        report_recipients.set_member_kinds(session, site, owner, {"week"})
        set_restricted(session, owner, True)
    runner.run_pending(stores, kinds=("reports", "report_mail"), now=MONDAY_0905_BERLIN)
    assert [m["To"] for m in inbox.messages] == ["owner@small.example"]
