"""Fixtures for the web app's tests: a seeded demo database, copied per test."""
from __future__ import annotations

import re
import shutil

import pytest

from benefits.web import create_app

PASSWORD = "test-password-2012"


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
def client(app):
    return app.test_client()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})


def token(client, path: str = "/intake") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


@pytest.fixture
def as_user(client):
    def _as(username):
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return _as
