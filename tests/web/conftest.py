"""Fixtures for the web app's tests: a seeded demo database, copied per test."""
from __future__ import annotations

import shutil

import pytest

from benefits.web import create_app

from web_helpers import PASSWORD, Clock, login


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory):
    """Seeding hashes a password per demo user (argon2): do it once."""
    path = tmp_path_factory.mktemp("seed") / "benefits.sqlite"
    create_app({"DATABASE": str(path), "DEMO_PASSWORD": PASSWORD, "SECRET_KEY": "seed"})
    return path


@pytest.fixture
def app(seeded_db, tmp_path):
    path = tmp_path / "benefits.sqlite"
    shutil.copy(seeded_db, path)
    return create_app({"DATABASE": str(path), "SECRET_KEY": "test-secret", "TESTING": True,
                       "CASES_PER_PAGE": 5})


@pytest.fixture
def clock(app):
    """The app's clock for log-in back-off and session expiry, stopped: a
    test moves it (clock.advance(seconds=29)) instead of waiting."""
    app.config["CLOCK"] = Clock()
    return app.config["CLOCK"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def as_user(client):
    def _as(username):
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return _as
