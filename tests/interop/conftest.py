"""Fixtures of the interop suite: the door's public key installed in both clients, and users
signed in over the HTTP door (see harness.py for how the clients are pointed at the mock)."""

import itertools

import harness
import pytest


@pytest.fixture(scope="session")
def door():
    """The public-key document of the running server, after installing its key in both
    clients and pointing Pyrogram at the door."""
    return harness.configure_clients()


_http_names = itertools.count(1)


@pytest.fixture
def http_user():
    """A user signed in over the HTTP door: ``(username, user id, bearer token)``."""
    username = f"http_user_{next(_http_names)}"
    user_id, token = harness.http_sign_in(username)
    return username, user_id, token


_mtproto_names = itertools.count(1)


@pytest.fixture
def new_username():
    """A username nobody holds yet, valid for Telegram (5–32 characters, a letter first)."""

    def make(prefix):
        return f"{prefix}_{next(_mtproto_names)}"

    return make
