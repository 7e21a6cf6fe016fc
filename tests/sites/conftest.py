"""The HTTP fixtures (tests/web/conftest.py) that the sites tests use: the app mailing to
the loopback SMTP inbox, the multi-tenant world of tests/web/world.py and its API keys."""

from tests.web.conftest import client as client
from tests.web.conftest import keys as keys
from tests.web.conftest import settings as settings
from tests.web.conftest import world as world
