"""The client journey's honest progress and "Change" from check-answers (issue 15, item 6).

"Change" opens a page with ?return=check; once it is answered (and any page its routing
newly opens), the client is back on check-answers. Only the word "check" counts, so the
parameter can never send anyone to another site.
"""

from __future__ import annotations

import re

from instruments import load_instrument
from surveys.responses.questionnaire import CHECK, after_change
from tests.helpers import post_form
from tests.test_client_pages import issue_one

WAVE1 = load_instrument("wave1")


def answer(client, url: str, **chosen) -> str:
    """Post a page with `chosen` answers, else each question's first choice; the redirect."""
    page_id = url.split("?")[0].rsplit("/", 1)[-1]
    data = {}
    for question in WAVE1.page(page_id).questions:
        if question.type == "free_text":
            continue
        data[question.id] = chosen.get(question.id, question.choices[0].value)
    response = post_form(client, url, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def to_check(client, session_factory, settings, mailer, smtp, clock) -> None:
    token = issue_one(session_factory, settings, mailer, smtp, clock)
    client.get(f"/r/{token}")
    url = "/q/satisfaction"
    while not url.endswith("/q/check"):
        url = answer(client, url, read_plan="no")


def test_progress_names_the_questionnaire_not_a_count_routing_changes(
    client, session_factory, settings, mailer, smtp, clock
):
    token = issue_one(session_factory, settings, mailer, smtp, clock)
    client.get(f"/r/{token}")
    html = client.get("/q/satisfaction").get_data(as_text=True)
    assert "Question 1 of" not in html
    assert f'<span class="govuk-caption-l">{WAVE1.title["en"]}</span>' in html


def test_optional_questions_say_so(client, session_factory, settings, mailer, smtp, clock):
    to_check(client, session_factory, settings, mailer, smtp, clock)
    comments = client.get("/q/comments").get_data(as_text=True)
    assert "(optional)" in comments
    assert "(optional)" not in client.get("/q/satisfaction").get_data(as_text=True)


def test_change_comes_back_to_check_answers(
    client, session_factory, settings, mailer, smtp, clock
):
    to_check(client, session_factory, settings, mailer, smtp, clock)
    check = client.get("/q/check").get_data(as_text=True)
    assert 'href="/q/satisfaction?return=check"' in check
    page = client.get("/q/satisfaction?return=check").get_data(as_text=True)
    assert re.search(r'<a href="/q/check" class="govuk-back-link"', page)
    assert answer(client, "/q/satisfaction?return=check", satisfaction="dissatisfied") \
        == "/q/check"
    assert "Dissatisfied" in client.get("/q/check").get_data(as_text=True)


def test_change_goes_through_the_pages_its_routing_opens(
    client, session_factory, settings, mailer, smtp, clock
):
    to_check(client, session_factory, settings, mailer, smtp, clock)
    # Yes to "read the plan" opens the plan page: answered first, then check-answers.
    opened = answer(client, "/q/read_plan?return=check", read_plan="yes")
    assert opened == "/q/your_plan?return=check"
    assert answer(client, opened) == "/q/check"


def test_return_takes_no_other_destination(
    client, session_factory, settings, mailer, smtp, clock
):
    to_check(client, session_factory, settings, mailer, smtp, clock)
    for bad in ("https://evil.example/", "//evil.example", "/staff/", "CHECK"):
        where = answer(client, f"/q/satisfaction?return={bad}")
        assert where == "/q/appointments", (bad, where)  # the normal next page, no detour


def test_after_change_unit():
    plan_ids = {q.id for q in WAVE1.page("your_plan").questions}
    full = {q.id: q.choices[0].value for q in WAVE1.questions()
            if q.required and q.id not in plan_ids}
    seen = [p.id for p in WAVE1.pages if p.id != "your_plan"]
    answers = {**full, "read_plan": "no", "_pages_seen": seen}
    assert after_change(WAVE1, answers, "satisfaction") == CHECK
    answers["read_plan"] = "yes"
    assert after_change(WAVE1, answers, "read_plan") == "your_plan"
    # Seen before, but its answers were dropped when routing hid it: asked again.
    answers["_pages_seen"] = [*seen, "your_plan"]
    assert after_change(WAVE1, answers, "read_plan") == "your_plan"
    plan = {q.id: "agree" for q in WAVE1.page("your_plan").questions}
    assert after_change(WAVE1, {**answers, **plan}, "read_plan") == CHECK
    # A later page seen but lacking a required answer is asked again too.
    del answers["right_work_health"]
    assert after_change(WAVE1, {**answers, **plan}, "read_plan") == "right_work"
