"""jobs/alerts.py on hand-made event histories in chDB, mailing through a real SMTP server
on loopback: a silence well outside the site's normal gaps is mailed once, its end once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from jetrack.jobs import alerts, runner
from jetrack.sites import report_recipients, webhooks
from jetrack.store.events import EventStore
from jetrack.store.models import Job, Site, TrafficAlert, utcnow
from jetrack.store.sessions import rebuild_sessions
from jetrack.store.stores import Stores, open_stores
from tests.conftest import Inbox, copy_template, make_settings
from tests.jobs.conftest import Receiver
from tests.privacy.helpers import make_account

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)


def insert_hours(events: EventStore, site_id: int, hours: list[datetime]) -> None:
    """One pageview at 20 past each of `hours`, in one statement."""
    events.command(
        "INSERT INTO events (site_id, timestamp, name, pathname, visitor_id, session_id)"
        " SELECT {site:UInt32}, arrayJoin({moments:Array(DateTime('UTC'))}), 'pageview', '/', 1, 1",
        {
            "site": site_id,
            "moments": [int((h + 20 * timedelta(minutes=1)).timestamp()) for h in hours],
        },
    )


def hourly(since: datetime, until: datetime) -> list[datetime]:
    count = int((until - since) / H)
    return [since + k * H for k in range(count + 1)]


@pytest.fixture
def watched(
    tmp_path: Path, smtp: tuple[Inbox, int], data_dir_template: Path
) -> Iterator[tuple[Stores, Inbox, int]]:
    """busy.example: events every hour for 28 days until 4 h before NOW, two alert
    recipients (the owner and a confirmed outside address); rare.example: a day in ten."""
    settings = make_settings(
        tmp_path / "data", smtp_host="127.0.0.1", smtp_port=smtp[1], base_url="https://s.example"
    )
    copy_template(data_dir_template, settings)
    stores = open_stores(settings)
    _, (busy, rare) = make_account(stores, "owner@busy.example", "busy.example", "rare.example")
    insert_hours(stores.events, busy, hourly(NOW - timedelta(days=28), NOW - 4 * H))
    insert_hours(stores.events, rare, hourly(NOW - timedelta(days=20), NOW - timedelta(days=19)))
    with stores.control.session() as session:
        for site_id in (busy, rare):
            site = session.get(Site, site_id)
            owner = site.owner if site else None
            assert site is not None and owner is not None
            report_recipients.set_member_kinds(session, site, owner, {"alerts"})
            other = report_recipients.add_outside(
                session, site, owner, "ops@busy.example", "alerts"
            )
            other.confirmed_at = utcnow()
    try:
        yield stores, smtp[0], busy
    finally:
        stores.close()


def check(stores: Stores, now: datetime) -> list[str]:
    outcomes = alerts.check_alerts(stores, now)
    runner.run_pending(stores, kinds=("alert_mail",))
    return [outcome.describe() for outcome in outcomes]


def test_stopped_once_then_back_once(watched: tuple[Stores, Inbox, int]) -> None:
    stores, inbox, busy = watched
    assert check(stores, NOW - 2 * H) == []  # 1 h silent: normal for a busy site
    said = check(stores, NOW)
    assert said == [
        "busy.example: tracking stopped: no events for 3 h (normal at this time of the week:"
        " up to 0 h); mailed to 2 recipient(s)"
    ]
    for to in ("owner@busy.example", "ops@busy.example"):
        [mail] = inbox.to(to)
        assert mail["Subject"] == "Tracking seems to have stopped on busy.example"
        assert "has received no events for 3 hours" in inbox.text(mail)
        assert "Mon 30 Nov 2026, 08:20 (UTC)" in inbox.text(mail)
        assert mail["List-Unsubscribe"].startswith("<https://s.example/reports/unsubscribe?token=")
    assert check(stores, NOW + 5 * H) == []  # still silent: one mail per silence
    assert len(inbox.messages) == 2

    insert_hours(stores.events, busy, [NOW + 6 * H])
    said = check(stores, NOW + 7 * H)
    assert said == [
        "busy.example: traffic is back since 2026-11-30T18:00:00+00:00; mailed to 2 recipient(s)"
    ]
    back = inbox.last_to("ops@busy.example")
    assert back["Subject"] == "Traffic is back on busy.example"
    assert check(stores, NOW + 8 * H) == []
    assert len(inbox.messages) == 4
    with stores.control.session() as session:
        [alert] = session.scalars(select(TrafficAlert)).all()
        assert alert.recovered_at is not None and alert.threshold_hours == 2


def test_an_unsubscribed_recipient_gets_no_alert(watched: tuple[Stores, Inbox, int]) -> None:
    stores, inbox, busy = watched
    with stores.control.session() as session:
        [ops] = [
            r for r in report_recipients.confirmed(session, busy, "alerts") if r.user_id is None
        ]
        report_recipients.unsubscribe(
            session, report_recipients.link_token(session, "unsubscribe", ops)
        )
    check(stores, NOW)
    assert [m["To"] for m in inbox.messages] == ["owner@busy.example"]


def test_the_check_is_scheduled_every_quarter_hour(watched: tuple[Stores, Inbox, int]) -> None:
    stores, _, _ = watched
    for minute in (0, 5, 14, 15, 44, 45):
        runner.schedule(stores, now=NOW + minute * timedelta(minutes=1))
    with stores.control.session() as session:
        keys = [str(k) for k in session.scalars(select(Job.dedup_key).where(Job.kind == "alerts"))]
    assert sorted(keys) == [
        "alerts:2026-11-30T12:0", "alerts:2026-11-30T12:1", "alerts:2026-11-30T12:2",
        "alerts:2026-11-30T12:3",
    ]  # fmt: skip


def insert_visitors(
    events: EventStore, site_id: int, at: datetime, count: int, source: str
) -> None:
    """`count` visitors from `source`, each with one pageview in the minute before `at`."""
    events.command(
        "INSERT INTO events (site_id, timestamp, name, pathname, visitor_id, session_id, source)"
        " SELECT {site:UInt32}, toDateTime({at:UInt32}, 'UTC') - number, 'pageview', '/',"
        " {base:UInt64} + number, {base:UInt64} + number, {source:String} FROM numbers({n:UInt32})",
        {"site": site_id, "at": int(at.timestamp()), "base": 10_000 + int(at.timestamp()) % 100_000,
         "source": source, "n": count},
    )  # fmt: skip
    rebuild_sessions(events, site_id=site_id)


def test_a_spike_is_mailed_with_its_sources_at_most_once_per_period(
    watched: tuple[Stores, Inbox, int],
) -> None:
    stores, inbox, busy = watched
    # The site is busy again: no tracking alert in the way.
    insert_hours(stores.events, busy, hourly(NOW - 4 * H, NOW))
    with stores.control.session() as session:
        site = session.get(Site, busy)
        assert site is not None
        report_recipients.set_spike(session, site, "10", "6")
    spike = NOW + 20 * timedelta(minutes=1)
    insert_visitors(stores.events, busy, spike, 8, "Hacker News")
    insert_visitors(stores.events, busy, spike - 2 * timedelta(minutes=1), 4, "Mastodon")
    assert check(stores, spike - 10 * timedelta(minutes=1)) == []  # below: nothing yet
    assert check(stores, spike) == [
        "busy.example: traffic spike: 12 current visitors (threshold 10); mailed to 2 recipient(s)"
    ]
    mail = inbox.last_to("ops@busy.example")
    assert mail["Subject"] == "Traffic spike on busy.example: 12 current visitors"
    text = inbox.text(mail)
    assert text.index("Hacker News") < text.index("Mastodon")
    assert "       8  Hacker News" in text and "       4  Mastodon" in text
    # Another spike an hour later: within the 6 hours, no second mail.
    later = spike + H
    insert_visitors(stores.events, busy, later, 15, "Hacker News")
    assert check(stores, later) == []
    # Seven hours after the first: mailed again.
    latest = spike + 7 * H
    insert_visitors(stores.events, busy, latest, 11, "Reddit")
    assert [line.split(";")[0] for line in check(stores, latest)] == [
        "busy.example: traffic spike: 11 current visitors (threshold 10)"
    ]
    assert len(inbox.to("ops@busy.example")) == 2


@pytest.mark.parametrize(
    ("threshold", "every", "error"),
    [
        ("many", "6", "spike_threshold: a whole number of visitors, 1 or more"),
        ("0", "6", "spike_threshold: a whole number of visitors, 1 or more"),
        ("10", "0", "spike_every_hours: a whole number of hours, 1 to 168"),
        ("10", "169", "spike_every_hours: a whole number of hours, 1 to 168"),
    ],
)
def test_bad_spike_settings_name_the_field(
    watched: tuple[Stores, Inbox, int], threshold: str, every: str, error: str
) -> None:
    stores, _, busy = watched
    with stores.control.session() as session:
        site = session.get(Site, busy)
        assert site is not None
        with pytest.raises(report_recipients.RecipientError, match=error):
            report_recipients.set_spike(session, site, threshold, every)


def test_an_alert_also_goes_to_the_sites_alert_webhook(
    watched: tuple[Stores, Inbox, int], receiver: Receiver
) -> None:
    stores, _, busy = watched
    stores.settings = stores.settings.model_copy(update={"webhook_allow_private": True})
    with stores.control.session() as session:
        site = session.get(Site, busy)
        assert site is not None
        webhooks.add_webhook(session, site, receiver.url, "json", {"alerts"}, True)
        webhooks.add_webhook(session, site, receiver.url + "?weekly", "json", {"week"}, True)
    check(stores, NOW)
    runner.run_pending(stores, kinds=("webhook",))
    check(stores, NOW + H)
    runner.run_pending(stores, kinds=("webhook",))
    [(_, body)] = receiver.requests  # one alert, to the one webhook that takes alerts
    document = json.loads(body)
    assert (document["event"], document["domain"], document["silent_hours"]) == (
        "alert.stopped", "busy.example", 3,
    )  # fmt: skip
