"""Production mode end to end: gunicorn with two workers and a separate `surveys scheduler`
process on PostgreSQL, everything configured through SURVEYS_* variables.

Runs in the PostgreSQL pass of `make test` only (SURVEYS_TEST_DATABASE_URL set).
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from surveys.models import Invitation, InvitationStatus, Response, Study
from tests.conftest import PG_URL, free_port
from tests.helpers import WAVE1_ANSWERS, participants_csv, person

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs SURVEYS_TEST_DATABASE_URL (PostgreSQL)")

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects by itself."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=20) as reply:
                return reply.status, reply.headers.get("Location", ""), reply.read().decode()
        except urllib.error.HTTPError as reply:
            return reply.code, reply.headers.get("Location", ""), reply.read().decode()

    def follow(self, path: str) -> tuple[str, str]:
        for _ in range(5):
            status, location, html = self.request(path)
            if status not in (301, 302, 303):
                assert status == 200, (path, status, html[:500])
                return path, html
            path = urllib.parse.urlsplit(location).path
        raise AssertionError("too many redirects")


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def production(database_url, smtp, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "SURVEYS_DATABASE_URL": database_url,
        "SURVEYS_SECRET_KEY": "production-test-" + "k" * 40,
        "SURVEYS_BASE_URL": f"http://127.0.0.1:{port}",
        "SURVEYS_SMTP_HOST": "127.0.0.1",
        "SURVEYS_SMTP_PORT": str(smtp.port),
        "SURVEYS_DISPATCH_INTERVAL": "1",
        "SURVEYS_INSTANCE_PATH": str(tmp_path / "instance"),
        "SURVEYS_WEB_ACCESS_LOG": "",
    }
    logs = {name: open(tmp_path / f"{name}.log", "w+b") for name in ("web", "scheduler")}  # noqa: SIM115
    web = subprocess.Popen(
        [BIN / "gunicorn", "-c", "gunicorn.conf.py", "-w", "2", "-b", f"127.0.0.1:{port}",
         "surveys.wsgi:app"], cwd=ROOT, env=env, stdout=logs["web"], stderr=subprocess.STDOUT)
    scheduler = subprocess.Popen([BIN / "surveys", "scheduler"], cwd=tmp_path, env=env,
                                 stdout=logs["scheduler"], stderr=subprocess.STDOUT)
    try:
        yield {"env": env, "port": port, "web": web, "scheduler": scheduler, "logs": logs}
    finally:
        for process, sig in ((web, signal.SIGTERM), (scheduler, signal.SIGINT)):
            if process.poll() is None:
                process.send_signal(sig)
        for process in (web, scheduler):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs.values():
            log.close()


def test_gunicorn_workers_and_a_separate_scheduler_serve_a_client(
    production, smtp, session_factory, tmp_path
):
    env, port = production["env"], production["port"]
    today = datetime.now(UTC).date()
    cohort = tmp_path / "participants.csv"
    cohort.write_text(participants_csv(
        person("P-1", today, email="p1@example.org"), person("P-2", today),
    ))
    imported = subprocess.run([BIN / "surveys", "import-cohort", "--participants", str(cohort)],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert "2 new" in imported.stdout
    # The processes run on the real clock: open the study's sending window all day, every
    # day (windows have their own frozen-clock tests), and let anything already held go now.
    with session_factory() as s:
        s.execute(update(Study).values(send_window={
            "from": "00:00", "to": "24:00",
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}))
        s.execute(update(Invitation).where(Invitation.delivery_status == "pending")
                  .values(next_attempt_at=datetime.now(UTC)))
        s.commit()

    # The scheduler process, not the web workers, issues the invitations and sends the email.
    [message] = wait_for(lambda: smtp.to("p1@example.org"), 60, "the invitation email")
    token = token_from_any(message, port)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: Browser(base).request("/healthz")[0] == 200, 30, "gunicorn")

    browser = Browser(base)
    path, html = browser.follow(f"/r/{token}")
    url = re.search(r'href="(/q/[a-z0-9_]+)"', html).group(1)
    for _ in range(40):
        if url.endswith("/check"):
            break
        _, html = browser.follow(url)
        names = set(re.findall(r'name="([a-z0-9_]+)"', html)) - {"csrf_token", "continue",
                                                                 "save_and_exit"}
        data = {n: WAVE1_ANSWERS[n] for n in names if n in WAVE1_ANSWERS}
        status, location, body = browser.request(
            url, {"csrf_token": CSRF.search(html).group(1), **data, "continue": "1"})
        assert status == 302, (url, status, body[:1000])
        url = urllib.parse.urlsplit(location).path
    _, html = browser.follow("/q/check")
    status, location, _ = browser.request("/q/check", {"csrf_token": CSRF.search(html).group(1)})
    assert status == 302 and location.endswith("/q/done")

    with session_factory() as s:
        response = s.scalar(select(Response).where(Response.participant_ref == "P-1"))
        assert response.status == "submitted" and response.mode == "web"
        statuses = sorted(s.scalars(select(Invitation.status).where(
            Invitation.wave_id == response.wave_id)))
        assert statuses == [InvitationStatus.COMPLETED, InvitationStatus.ISSUED]

    # Both stop cleanly on the signals a service manager sends.
    production["web"].send_signal(signal.SIGTERM)
    production["scheduler"].send_signal(signal.SIGINT)
    assert production["web"].wait(timeout=30) == 0
    assert production["scheduler"].wait(timeout=30) == 0


def token_from_any(message, port: int) -> str:
    """The personal link points at the served address (SURVEYS_BASE_URL)."""
    body = message.get_body(("plain",)).get_content()
    match = re.search(rf"http://127\.0\.0\.1:{port}/r/([A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)
