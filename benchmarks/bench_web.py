"""Questionnaire submissions per second under gunicorn on PostgreSQL, beside /healthz.

A submission is the client's last step: POST /q/check on a questionnaire whose every
page is answered; the service checks the answers, marks the response submitted with a
conditional UPDATE, completes the invitation and redirects to /q/done. The ceiling is
GET /healthz of the same app under the same gunicorn (the framework doing no work).
32 closed-loop clients on loopback; the database holds `size` other clients with
issued links, so lookups run against tables of that size.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from benchmarks.common import (
    BIN,
    ROOT,
    SECRET,
    Figure,
    cpu_seconds_by_program,
    engine_for,
    fresh_database,
    vacuum,
)
from benchmarks.data import add_invitations, add_participants, make_study
from benchmarks.loadgen import Request, gather_all, run_load

CONCURRENCY = 32
SECONDS = 10.0
WORKERS = 4
PREPARED = 4000  # questionnaires ready to submit; more than 10 s can use on this machine
CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
WAVE1 = {
    "satisfaction": "satisfied", "channel_appropriate": "agree", "number_appropriate": "agree",
    "length_appropriate": "agree", "honest_open": "agree", "trusted_ehp": "agree",
    "understood_circumstances": "agree", "open_up_vs_work_coach": "more_able",
    "identified_obstacles": "agree", "identified_solutions": "agree", "read_plan": "no",
    "right_work_health": "agree", "outlook_change": "improved",
    "confidence_change": "no_difference", "importance_change": "no_difference",
    "support_change": "improved",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(url: str, size: int, prepared: int) -> list[str]:
    """`size` background clients with live links, and `prepared` with every page answered."""
    import json

    from instruments import load_instrument
    from surveys import tokens

    today = datetime.now(UTC).date()
    version = load_instrument("wave1").version
    engine = engine_for(url)
    tokens_out = []
    with engine.begin() as conn:
        study, wave1, _ = make_study(conn, "web")
        add_participants(conn, study, size, today - timedelta(days=1))
        add_invitations(conn, study, wave1, today - timedelta(days=1), status="issued")
        add_participants(conn, study, prepared, today, prefix="W", email=True)
        rows = conn.execute(text(
            "SELECT id FROM participants WHERE study_id = :s AND ref LIKE 'W%' ORDER BY id"
        ), {"s": study}).scalars().all()
        answers = json.dumps({**WAVE1, "_pages_seen": []})
        invitations, responses = [], []
        for pid in rows:
            nonce = tokens.new_nonce()
            token = tokens.derive_token(SECRET, nonce)
            tokens_out.append(token)
            invitations.append({"p": pid, "w": wave1, "d": today, "n": nonce,
                                "h": tokens.hash_token(token), "c": today + timedelta(days=28),
                                "r": today + timedelta(days=7)})
        conn.execute(text(
            "INSERT INTO invitations (participant_id, wave_id, due_on, status, nonce, token_hash,"
            " issued_at, closes_on, reminder_due_on, delivery_status, delivery_kind, attempts)"
            " VALUES (:p, :w, :d, 'issued', :n, :h, now(), :c, :r, 'sent', 'invitation', 1)"
        ), invitations)
        ids = conn.execute(text(
            "SELECT i.id, i.participant_id, p.ref FROM invitations i JOIN participants p "
            "ON p.id = i.participant_id WHERE p.study_id = :s AND p.ref LIKE 'W%' "
            "ORDER BY i.participant_id"
        ), {"s": study}).all()
        for inv_id, pid, ref in ids:
            responses.append({"w": wave1, "i": inv_id, "p": pid, "ref": ref, "v": version,
                              "a": answers})
        conn.execute(text(
            "INSERT INTO responses (wave_id, invitation_id, participant_id, participant_ref, "
            "status, mode, source, instrument, instrument_version, answers, current_page, "
            "started_at) VALUES (:w, :i, :p, :ref, 'in_progress', 'web', 'form', 'wave1', :v, "
            "CAST(:a AS json), 'support_change', now())"
        ), responses)
    engine.dispose()
    vacuum(url)
    return tokens_out


def _start_gunicorn(url: str, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "SURVEYS_DATABASE_URL": url, "SURVEYS_SECRET_KEY": SECRET,
           "SURVEYS_BASE_URL": f"http://127.0.0.1:{port}",
           "SURVEYS_INSTANCE_PATH": tempfile.mkdtemp(prefix="surveys-bench-")}
    process = subprocess.Popen(
        # No worker recycling (--max-requests 0): a restart landing inside one of the
        # measured 10 s would charge a whole worker start-up to that phase.
        [BIN / "gunicorn", "-c", "gunicorn.conf.py", "-w", str(WORKERS), "--max-requests", "0",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "surveys.wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            reply = gather_all("127.0.0.1", port, [Request("GET", "/healthz")], 1)[0]
            if reply.status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def _sessions(port: int, token_list: list[str]) -> list[tuple[str, str]]:
    """Open each link as a client would: (session cookie, CSRF token) per questionnaire."""
    host = "127.0.0.1"
    opened = gather_all(host, port, [Request("GET", f"/r/{t}") for t in token_list], 16)
    cookies = [reply.cookie() for reply in opened]
    checks = gather_all(host, port, [Request("GET", "/q/check", {"Cookie": c})
                                     for c in cookies], 16)
    out = []
    for cookie, reply in zip(cookies, checks, strict=True):
        match = CSRF.search(reply.body)
        if reply.status != 200 or not match:
            raise RuntimeError(f"check page: {reply.status} {reply.body[:300]!r}")
        out.append((reply.cookie() or cookie, match.group(1).decode()))
    return out


def _cpu_ms_per_request(before: dict[str, float], requests: int) -> dict[str, float]:
    """Where each request's CPU went: gunicorn workers, PostgreSQL, the load generator."""
    after = cpu_seconds_by_program()
    used = {name: after.get(name, 0.0) - before.get(name, 0.0) for name in after}
    groups = {"web": ("gunicorn",), "postgres": ("postgres",), "loadgen": ("python", "python3")}
    return {
        group: round(1000 * sum(v for k, v in used.items() if k in names) / max(requests, 1), 2)
        for group, names in groups.items()
    }


def _cpu_text(cpu: dict[str, float]) -> str:
    return f"{cpu['web']:.2f} / {cpu['postgres']:.2f} / {cpu['loadgen']:.2f}"


def run(sizes: list[int], seconds: float = SECONDS) -> list[Figure]:
    figures = []
    for size in sizes:
        url = fresh_database("surveys_bench_web")
        token_list = _prepare(url, size, PREPARED)
        port = free_port()
        with tempfile.TemporaryFile() as log:
            web = _start_gunicorn(url, port, log)
            try:
                ready = _sessions(port, token_list)
                # Warm every worker, then the framework's ceiling.
                run_load("127.0.0.1", port, iter(lambda: Request("GET", "/healthz"), None),
                         concurrency=CONCURRENCY, seconds=2, ok=lambda r: r.status == 200)
                before = cpu_seconds_by_program()
                ceiling = run_load(
                    "127.0.0.1", port, iter(lambda: Request("GET", "/healthz"), None),
                    concurrency=CONCURRENCY, seconds=seconds, ok=lambda r: r.status == 200)
                ceiling_cpu = _cpu_ms_per_request(before, ceiling.requests)
                work = (
                    Request("POST", "/q/check", {
                        "Cookie": cookie,
                        "Content-Type": "application/x-www-form-urlencoded"},
                        urllib.parse.urlencode({"csrf_token": csrf}).encode())
                    for cookie, csrf in ready
                )
                before = cpu_seconds_by_program()
                submitted = run_load(
                    "127.0.0.1", port, work, concurrency=CONCURRENCY, seconds=seconds,
                    ok=lambda r: r.status == 302 and r.header("location").endswith("/q/done"))
                submitted_cpu = _cpu_ms_per_request(before, submitted.requests)
            finally:
                web.send_signal(signal.SIGTERM)
                web.wait(timeout=60)
        engine = engine_for(url)
        with engine.connect() as conn:
            stored = conn.execute(text(
                "SELECT count(*) FROM responses WHERE status = 'submitted'")).scalar_one()
        engine.dispose()
        if stored != submitted.requests:
            raise RuntimeError(f"{submitted.requests} submissions answered but {stored} stored")
        if submitted.requests >= len(ready) - CONCURRENCY:
            raise RuntimeError("ran out of prepared questionnaires: raise PREPARED")
        extra = {"failures": submitted.failures, "ceiling_failures": ceiling.failures,
                 "ceiling_p50_ms": ceiling.p50, "ceiling_p99_ms": ceiling.p99,
                 "submissions": submitted.requests, "seconds": submitted.seconds,
                 "cpu_ms_per_request": {"healthz": ceiling_cpu, "submission": submitted_cpu}}
        print(f"    web {size:,}: CPU ms per request (web workers / PostgreSQL / load "
              f"generator): /healthz {_cpu_text(ceiling_cpu)}, submission "
              f"{_cpu_text(submitted_cpu)}", flush=True)
        figures += [
            Figure("web", size, "submissions/s (POST /q/check, 32 clients)",
                   submitted.per_second, "req/s", "GET /healthz req/s", ceiling.per_second,
                   goal=">= 0.5 x ceiling", met=submitted.per_second >= 0.5 * ceiling.per_second,
                   extra=extra),
            Figure("web", size, "submission latency p50", submitted.p50, "ms",
                   "GET /healthz p50", ceiling.p50, higher_is_better=False),
            Figure("web", size, "submission latency p99", submitted.p99, "ms",
                   "GET /healthz p99", ceiling.p99, higher_is_better=False,
                   goal="< 50 ms", met=submitted.p99 < 50),
        ]
    return figures


if __name__ == "__main__":  # a quick look: python -m benchmarks.bench_web
    for f in run([1000], seconds=3):
        print(f)
    print(date.today())
