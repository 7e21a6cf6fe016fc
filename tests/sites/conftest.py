"""The app on a real control and event store, a real SMTP server on loopback, the
multi-tenant world of tests/accounts/world.py, and API keys of each scope per person."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from jetrack.accounts.api_keys import SITES_SCOPE, STATS_SCOPE, create_api_key
from jetrack.store.models import User
from jetrack.store.stores import Stores
from tests.accounts.conftest import client, inbox, settings, smtp  # noqa: F401  (fixtures)
from tests.accounts.world import World, build_world


@dataclass
class Keys:
    """Sites API (`sites`) and Stats API (`stats`) keys by person of the world."""

    sites: dict[str, str]
    stats: dict[str, str]


@pytest.fixture
def world(stores: Stores) -> World:
    return build_world(stores)


@pytest.fixture
def keys(stores: Stores, world: World) -> Keys:
    found = Keys({}, {})
    with stores.control.session() as session:
        for role, user_id in world.users.items():
            user = session.get(User, user_id)
            assert user is not None
            found.sites[role] = create_api_key(session, user, "provision", SITES_SCOPE)[1]
            found.stats[role] = create_api_key(session, user, "stats", STATS_SCOPE)[1]
    return found
