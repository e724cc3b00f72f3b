import pytest

from tests.notifications.receiver import running_receiver


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def allow_private(settings):
    """Local receivers need the development switch (http://127.0.0.1 is loopback)."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOKS_CONNECT_TIMEOUT = 2
    settings.WEBHOOKS_TIMEOUT = 2


@pytest.fixture(autouse=True)
def _public_only_by_default(settings):
    """Production's rule unless a test opts in with `allow_private`."""
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
