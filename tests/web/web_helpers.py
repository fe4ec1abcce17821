"""Helpers shared by the web tests (a unique module name: several conftest.py
files may sit on sys.path)."""
from __future__ import annotations

import datetime as dt
import re
import threading
from contextlib import contextmanager

PASSWORD = "test-password-2012"


class Clock:
    """A clock for ``app.config["CLOCK"]`` that stands still until moved."""

    def __init__(self, at: dt.datetime = dt.datetime(2013, 3, 1, 1, 30, tzinfo=dt.timezone.utc)):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += dt.timedelta(**delta)


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


def browser_login(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the real form in a Playwright page."""
    page.goto(base_url + "/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


@contextmanager
def served(app):
    """The app on a free localhost port, served from a background thread; yields its base URL."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def assert_private(folder) -> int:
    """``folder`` and every folder in it are 0700, every file 0600 (as the
    database): what the web writes holds names. Returns the files seen."""
    import stat
    from pathlib import Path
    folder, files = Path(folder), 0
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (str(path), oct(mode))
        files += path.is_file()
    return files
