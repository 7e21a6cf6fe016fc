"""Routes, services and job handlers are registered as imported objects, not module names:
go-to-definition and mypy follow them, and a typo fails at import, not at the first request."""

from __future__ import annotations

import inspect

from starlette.routing import BaseRoute

from jetrack import app
from jetrack.jobs import runner
from jetrack.web import dashboard, health


def test_routes_are_the_web_modules_route_lists_in_matching_order() -> None:
    assert all(isinstance(route, BaseRoute) for table in app.ROUTE_TABLES for route in table)
    assert app.ROUTE_TABLES[0] is health.routes
    # /sites/{domain} after /sites/new: the dashboard's table comes after the site pages'.
    assert app.ROUTE_TABLES.index(dashboard.routes) > 9
    assert len(app.collect_routes()) == sum(len(table) for table in app.ROUTE_TABLES)


def test_services_and_job_handlers_are_functions() -> None:
    assert [service.__module__ for service in app.SERVICES] == [
        "jetrack.ingest.service",
        "jetrack.jobs.runner",
        "jetrack.jobs.idle_memory",
    ]
    # Scheduled kinds, and those another job or a page queues (exports, reports and alerts
    # with their mails and webhook deliveries, imports; billing's upkeep, scheduled only with
    # billing on, and the retried erasure of a payment provider's customer).
    queued = {"export", "reports", "report_mail", "alerts", "alert_mail", "webhook", "import"}
    queued |= {"billing_upkeep", "billing_erase"}
    queued |= {"plan_mail"}  # the quota job's mails to a team's owners
    kinds = {*runner.DAILY_KINDS, *runner.HOURLY_KINDS, *runner.PURGE_KINDS, *queued}
    assert set(runner.HANDLERS) == kinds
    assert all(inspect.isfunction(handler) for handler in runner.HANDLERS.values())
    for module in (app, runner):
        assert "importlib" not in inspect.getsource(module)
