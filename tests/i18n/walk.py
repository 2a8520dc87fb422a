"""Answering a questionnaire through the test client, page by page, as a person would.

Shared by the Welsh, telephone, save-and-resume and instrument-change tests.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from surveys.accounts import create_user
from surveys.models import Invitation, Participant, Response
from tests.helpers import csrf_token, sign_in

FIELD = re.compile(r'<(?:input|textarea)[^>]*\bname="([a-z0-9_]+)"')
NOT_ANSWERS = {"csrf_token", "continue", "save_and_exit"}
START = re.compile(r'href="(/q/[a-z0-9_]+)"[^>]*govuk-button--start|'
                   r'class="[^"]*govuk-button--start[^"]*"[^>]*href="(/q/[a-z0-9_]+)"')
PASSWORD = "a long test password 2026"


@dataclass
class Seen:
    """One questionnaire page as shown: its id, the HTML and the text a person reads."""

    id: str
    html: str

    @property
    def text(self) -> str:
        return html.unescape(self.html)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def fields(page_html: str) -> set[str]:
    return set(FIELD.findall(page_html)) - NOT_ANSWERS


def start_url(intro_html: str) -> str:
    match = START.search(intro_html)
    assert match, "no start button on the introduction page"
    return match.group(1) or match.group(2)


def post_page(client, url: str, data: dict, *, button: str = "continue"):
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data, button: "1"})


def walk(
    client,
    url: str,
    answers: dict,
    *,
    on_page: Callable[[Seen], None] | None = None,
    stop_before: str | None = None,
) -> list[Seen]:
    """Answer every page from `url` until the check-answers page (or page `stop_before`).

    Each page gets the answers named by its own fields, as a person fills in only
    what is in front of them; a page that refuses its answers fails the walk.
    """
    seen: list[Seen] = []
    for _ in range(60):
        if url.endswith("/q/check"):
            return seen
        page_id = url.rsplit("/", 1)[1]
        if page_id == stop_before:
            return seen
        shown = client.get(url)
        assert shown.status_code == 200, (page_id, shown.status_code)
        page = Seen(page_id, shown.get_data(as_text=True))
        seen.append(page)
        if on_page:
            on_page(page)
        data = {name: answers[name] for name in fields(page.html) if name in answers}
        result = post_page(client, url, data)
        assert result.status_code == 302, (page_id, page_text(result)[:2000])
        url = result.headers["Location"]
    raise AssertionError("the questionnaire never reached the check-answers page")


def send_answers(client):
    """Submit from the check-answers page; returns the POST's response."""
    token = csrf_token(client.get("/q/check").get_data(as_text=True))
    return client.post("/q/check", data={"csrf_token": token})


def open_and_start(client, token: str) -> tuple[str, str]:
    """Open a personal link; returns the introduction page's text and the first page's URL."""
    intro = client.get(f"/r/{token}", follow_redirects=True)
    assert intro.status_code == 200
    body = intro.get_data(as_text=True)
    return html.unescape(body), start_url(body)


def staff_member(client, session_factory, role: str, email: str | None = None) -> int:
    """Create an account with `role`, sign it in on `client`; returns its id."""
    email = email or f"{role}@example.org"
    with session_factory() as s:
        user = create_user(s, email, PASSWORD, role)
        s.commit()
        user_id = user.id
    signed = sign_in(client, email, PASSWORD)
    assert signed.status_code == 302, signed.get_data(as_text=True)[:2000]
    return user_id


def invitation_id(session_factory, ref: str, wave: str) -> int:
    with session_factory() as s:
        return s.scalar(
            select(Invitation.id)
            .join(Participant, Participant.id == Invitation.participant_id)
            .where(Participant.ref == ref, Invitation.wave.has(code=wave))
        )


def stored_response(session_factory, ref: str, wave: str) -> Response | None:
    with session_factory() as s:
        response = s.scalar(
            select(Response)
            .join(Invitation, Invitation.id == Response.invitation_id)
            .join(Participant, Participant.id == Invitation.participant_id)
            .where(Participant.ref == ref, Invitation.wave.has(code=wave))
        )
        if response is not None:
            s.expunge(response)
        return response
