"""Small helpers shared by the web and CLI tests."""

from __future__ import annotations

import re
from datetime import date

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LINK = re.compile(r"http://surveys\.test/r/([A-Za-z0-9_-]+)")

# Answers a client might give, page by page, to the shipped wave instruments.
WAVE1_ANSWERS = {
    "satisfaction": "satisfied",
    "channel_appropriate": "agree",
    "number_appropriate": "agree",
    "length_appropriate": "agree",
    "honest_open": "strongly_agree",
    "trusted_ehp": "agree",
    "understood_circumstances": "agree",
    "open_up_vs_work_coach": "more_able",
    "identified_obstacles": "agree",
    "identified_solutions": "agree",
    "read_plan": "no",
    "right_work_health": "agree",
    "outlook_change": "improved",
    "confidence_change": "no_difference",
    "importance_change": "no_difference",
    "support_change": "improved",
}
WAVE2_ANSWERS = {
    "workability": "7",
    "confidence": "6",
    "importance": "8",
    "steps_taken": "all",
    "steps_helped": "yes",
    "seen_work_coach": "no",
}

PARTICIPANTS_HEADER = (
    "participant_ref,site,completed_on,language,email,phone,"
    "workability_end,confidence_end,importance_end\n"
)


def make_study(session, slug: str, *, measures=(), waves=(), arms=(), **fields):
    """A study built directly from the models, as a definition would make it.

    `measures`: dicts of Measure fields; key is needed, binary ones need better; the rest
    default to a 0-10 scale with a baseline, slots 1, 2... in the order given. `waves`:
    dicts of Wave fields; code is needed, the instrument defaults to the code.
    """
    from surveys.models import Measure, Study, Wave

    study = Study(slug=slug, name=fields.pop("name", slug), programme={"en": slug},
                  languages=["en"], arms=list(arms), **fields)
    study.measures = [
        Measure(**{"kind": "scale", "better": "higher", "baseline": True,
                   "label": {"en": m["key"]},
                   **({"min_value": 0, "max_value": 10} if m.get("kind", "scale") == "scale"
                      else {}),
                   "position": slot, "slot": slot, **m})
        for slot, m in enumerate(measures, start=1)
    ]
    study.waves = [Wave(**{"instrument": w["code"], "offset_days": 0, "reminder_days": [7],
                           "close_days": 28, **w}) for w in waves]
    session.add(study)
    session.flush()
    return study


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def participants_csv(*rows: tuple) -> str:
    return PARTICIPANTS_HEADER + "".join(",".join(map(str, row)) + "\n" for row in rows)


def person(ref: str, completed: date, *, email: str = "", language: str = "en",
           scores=(5, 5, 7), site: str = "Hull") -> tuple:
    return (ref, site, completed.isoformat(), language, email, "", *scores)


def token_from(message) -> str:
    body = message.get_body(("plain",)).get_content()
    match = LINK.search(body)
    assert match, f"no personal link in the email: {body!r}"
    return match.group(1)


def post_form(client, url: str, data: dict, *, follow: bool = False):
    page = client.get(url, follow_redirects=True)
    token = csrf_token(page.get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=follow)


def sign_in(client, email: str, password: str):
    return post_form(client, "/staff/sign-in", {"email": email, "password": password})
