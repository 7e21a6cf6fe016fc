"""The HTTP fixtures (tests/web/conftest.py) that the mail limit tests use: the app
mailing to the loopback SMTP inbox."""

from tests.web.conftest import client as client
from tests.web.conftest import settings as settings
