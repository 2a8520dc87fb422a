"""A client's page view and submission stay as cheap in SQL as they are: a regression guard
on the statements each runs (and the columns they read), not on time, so it holds on a busy
machine. The web benchmark (benchmarks/bench_web.py) measures the time."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from scheduler.jobs import dispatch
from surveys.cohort.importer import import_cohort
from surveys.models import Invitation, Response
from surveys.studies import resolve_study
from tests.helpers import WAVE1_ANSWERS, csrf_token, participants_csv, person, token_from


@contextmanager
def statements(engine):
    """Every statement the app sends through `engine`, with how many columns it read."""
    seen: list[tuple[str, int]] = []

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.split(None, 1)[0].upper(), len(cursor.description or ())))

    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "after_cursor_execute", after)


def test_a_page_view_is_one_select_and_a_submission_one_select_and_two_updates(
    client, engine, session_factory, settings, mailer, smtp, clock
):
    with session_factory() as s:
        import_cohort(s, resolve_study(s, None, create=True),
                      participants_csv(person("C-1", clock().date(), email="c@example.org")))
        s.commit()
    dispatch(session_factory, clock(), settings, mailer)
    client.get(f"/r/{token_from(smtp.to('c@example.org')[-1])}")
    html = client.get("/q/satisfaction").get_data(as_text=True)
    saved = client.post("/q/satisfaction", data={
        "csrf_token": csrf_token(html), "satisfaction": WAVE1_ANSWERS["satisfaction"]})
    assert saved.status_code == 302
    with session_factory() as s:  # the other pages answered in one write, as the benchmark does
        response = s.query(Response).one()
        response.answers = {**WAVE1_ANSWERS, "_pages_seen": []}
        s.commit()

    # The link, the answers so far and the study's languages and programme: one SELECT,
    # reading the invitation's and response's columns and three of the study's (no Wave or
    # Study rows: building those cost each submission about 0.5 ms of CPU).
    columns = len(Invitation.__table__.c) + len(Response.__table__.c) + 3
    with statements(engine) as seen:
        page = client.get("/q/satisfaction")
    assert page.status_code == 200
    assert seen == [("SELECT", columns)]

    with statements(engine) as seen:
        page = client.get("/q/check")
    assert page.status_code == 200
    assert seen == [("SELECT", columns)]

    with statements(engine) as seen:
        done = client.post("/q/check", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert done.status_code == 302 and done.headers["Location"].endswith("/q/done")
    assert seen == [("SELECT", columns), ("UPDATE", 0), ("UPDATE", 0)]
