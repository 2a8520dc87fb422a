"""Client page latency while evaluators request reports in a loop, beside no report load.

The database holds `size` clients with wave2 answers (so reports have work to do) and
a few hundred clients part-way through their questionnaire. CLIENTS closed-loop
clients reload their check-answers page (GET /q/check: one SELECT and a template);
first alone (the reference), then while REPORTERS closed-loop evaluators download the
evaluation CSV by site in a loop, the load that once pushed a client page from 16 ms
to 11.8 s. Same gunicorn as the `web` benchmark (4 sync workers, PostgreSQL).
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks.bench_web import WORKERS, _prepare, _sessions, _start_gunicorn, free_port
from benchmarks.common import SECRET, Figure, engine_for, fresh_database, vacuum
from benchmarks.data import add_responses
from benchmarks.loadgen import Request, gather_all, send
from surveys.reports.cache import bump

CLIENTS = 4
REPORTERS = 16
SECONDS = 10.0
PREPARED = 200
CLIENT_P50 = f"client page p50, {REPORTERS} evaluators downloading reports in a loop"
REPORT = "/reports/web/evaluation.csv?follow_up=wave2&breakdown=site"


def _evaluator_cookie(url: str) -> str:
    """A signed-in evaluator's session cookie, signed as the app signs it."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface
    from sqlalchemy.orm import Session

    from surveys.accounts import create_user

    engine = engine_for(url)
    with Session(engine) as session:
        user = create_user(session, "evaluator@example.org", "benchmark-password-1", "evaluator")
        user_id, epoch = user.id, user.session_epoch
        session.commit()
    engine.dispose()
    app = Flask("bench")
    app.secret_key = SECRET
    signer = SecureCookieSessionInterface().get_signing_serializer(app)
    return "session=" + signer.dumps({"user_id": user_id, "epoch": epoch})


@dataclass
class Loop:
    """Every attempt's latency, a timeout or a refused connection counted at its full wait."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def answered(self) -> int:
        return self.statuses[200]

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms) or [float("nan")]
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def _loop(port: int, requests: list[Request], concurrency: int, seconds: float) -> Loop:
    out = Loop()
    deadline = time.perf_counter() + seconds
    work = itertools.cycle(requests)

    async def client():
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                reply = await send("127.0.0.1", port, next(work))
                out.statuses[reply.status] += 1
            except OSError:  # TimeoutError included
                out.statuses["timeout or connection error"] += 1
            out.latencies_ms.append((time.perf_counter() - start) * 1000)

    begin = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    out.seconds = time.perf_counter() - begin
    return out


def _load(port: int, pages: list[Request], reports: list[Request] | None,
          seconds: float) -> tuple[Loop, Loop]:
    """Client pages alone, or client pages and report downloads at once."""

    async def both():
        page = _loop(port, pages, CLIENTS, seconds)
        if reports is None:
            return await page, Loop()
        return tuple(await asyncio.gather(page, _loop(port, reports, REPORTERS, seconds)))

    return asyncio.run(both())


def run(sizes: list[int], seconds: float = SECONDS) -> list[Figure]:
    figures = []
    for size in sizes:
        url = fresh_database("surveys_bench_contention")
        tokens = _prepare(url, size, PREPARED)
        engine = engine_for(url)
        with engine.begin() as conn:
            study, wave2 = conn.execute(text(
                "SELECT s.id, w.id FROM studies s JOIN waves w ON w.study_id = s.id "
                "WHERE s.slug = 'web' AND w.code = 'wave2'")).one()
            add_responses(conn, study, wave2, datetime.now(UTC).date() - timedelta(days=1))
        with Session(engine) as session:  # as the service's own imports would
            bump(session)
            session.commit()
        engine.dispose()
        vacuum(url)
        cookie = _evaluator_cookie(url)
        port = free_port()
        with tempfile.TemporaryFile() as log:
            try:
                web = _start_gunicorn(url, port, log)
            except RuntimeError:
                log.seek(0)
                print(log.read().decode(errors="replace")[-2000:], flush=True)
                raise
            try:
                ready = _sessions(port, tokens[:CLIENTS * 8])
                pages = [Request("GET", "/q/check", {"Cookie": c}) for c, _ in ready]
                reports = [Request("GET", REPORT, {"Cookie": cookie})]
                first = gather_all("127.0.0.1", port, reports, 1)[0]
                if first.status != 200:
                    raise RuntimeError(f"report: {first.status} {first.body[:300]!r}")
                _load(port, pages, None, 2)  # warm every worker
                alone, _ = _load(port, pages, None, seconds)
                loaded, report = _load(port, pages, reports, seconds)
            finally:
                web.send_signal(signal.SIGTERM)
                web.wait(timeout=60)
        extra = {"client_pages_alone": dict(alone.statuses),
                 "client_pages_loaded": dict(loaded.statuses),
                 "reports": dict(report.statuses), "report_p50_ms": report.percentile(50),
                 "workers": WORKERS, "clients": CLIENTS, "reporters": REPORTERS}
        print(f"    contention {size:,}: client pages alone {dict(alone.statuses)}, under "
              f"report load {dict(loaded.statuses)}; reports {dict(report.statuses)} (p50 "
              f"{report.percentile(50):.0f} ms)", flush=True)
        figures += [
            Figure("contention", size, CLIENT_P50, loaded.percentile(50), "ms",
                   "client page p50, no report load", alone.percentile(50),
                   higher_is_better=False, goal=">= 0.5",
                   met=alone.percentile(50) / loaded.percentile(50) >= 0.5, extra=extra),
            Figure("contention", size, "client page p99, same load", loaded.percentile(99),
                   "ms", "client page p99, no report load", alone.percentile(99),
                   higher_is_better=False, goal="< 200 ms", met=loaded.percentile(99) < 200),
            Figure("contention", size, "client pages answered/s, same load", loaded.per_second,
                   "req/s", "client pages/s, no report load", alone.per_second,
                   goal=">= 0.5", met=loaded.per_second >= 0.5 * alone.per_second),
            Figure("contention", size, "report downloads answered/s, same load",
                   report.per_second, "req/s"),
        ]
    return figures


if __name__ == "__main__":  # a quick look: python -m benchmarks.bench_contention
    for f in run([1000], seconds=3):
        print(f)
