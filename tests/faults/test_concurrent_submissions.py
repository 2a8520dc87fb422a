"""Ten people (or ten clicks) sending one link's answers at the same moment: exactly one
response is stored, and nobody sees an error."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from surveys.models import Invitation, Response
from tests.helpers import csrf_token
from tests.security.conftest import WAVE1_ANSWERS, answer_every_page

CLIENTS = 10


def race(app, token: str, path: str, data: dict) -> list[str]:
    """Each of CLIENTS browsers opens the link, then all post `data` to `path` at once."""
    clients = []
    for _ in range(CLIENTS):
        client = app.test_client()
        client.get(f"/r/{token}")
        page = client.get("/staff/sign-in").get_data(as_text=True)
        clients.append((client, csrf_token(page)))
    barrier = threading.Barrier(CLIENTS)
    statuses: list[str] = []
    lock = threading.Lock()

    def send(client, csrf):
        barrier.wait()
        response = client.post(path, data={"csrf_token": csrf, **data})
        body = response.get_data(as_text=True)
        if response.status_code == 302:
            outcome = "redirect to " + response.headers["Location"]
        elif response.status_code == 200 and "You have already answered" in body:
            outcome = "already answered"  # arrived after another sender's submission
        else:
            outcome = f"{response.status_code}: {body[:300]}"
        with lock:
            statuses.append(outcome)

    threads = [threading.Thread(target=send, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def responses_for(session_factory, invitation_id: int) -> list[Response]:
    with session_factory() as s:
        return list(s.scalars(select(Response).where(Response.invitation_id == invitation_id)))


def test_ten_simultaneous_submissions_store_exactly_one_response(
    app, world, session_factory, clock
):
    invitation_id = world.invitation_ids["ZQREF-ALPHA1"]
    answer_every_page(session_factory, invitation_id, WAVE1_ANSWERS, clock())
    outcomes = race(app, world.tokens["ZQREF-ALPHA1"], "/q/check", {})
    # Every sender lands on the thank-you page, or (if they arrived after the winner had
    # finished) on the page saying the questionnaire is already answered.
    assert set(outcomes) <= {"redirect to /q/done", "already answered"}, outcomes
    assert len(outcomes) == CLIENTS
    [response] = responses_for(session_factory, invitation_id)
    assert response.status == "submitted" and response.answers["satisfaction"] == "satisfied"
    with session_factory() as s:
        assert s.get(Invitation, invitation_id).status == "completed"
        submitted = s.scalar(select(func.count()).select_from(Response).where(
            Response.status == "submitted", Response.source == "form"))
    assert submitted == 1


def test_ten_simultaneous_first_answers_create_one_response(app, world, session_factory):
    invitation_id = world.invitation_ids["ZQREF-BRAVO2"]
    outcomes = race(app, world.tokens["ZQREF-BRAVO2"], "/q/satisfaction",
                    {"satisfaction": "satisfied", "continue": "1"})
    assert len(outcomes) == CLIENTS
    assert {o.rsplit("/", 1)[0] for o in outcomes} == {"redirect to /q"}, outcomes
    [response] = responses_for(session_factory, invitation_id)
    assert response.status == "in_progress" and response.answers["satisfaction"] == "satisfied"
