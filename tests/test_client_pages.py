"""What a client meets through a personal link: clear pages for every state, never a trace."""

from __future__ import annotations

from scheduler.jobs import dispatch
from surveys.cohort.importer import import_cohort
from surveys.studies import resolve_study
from tests.helpers import participants_csv, person, post_form, token_from


def issue_one(session_factory, settings, mailer, smtp, clock, email="c@example.org") -> str:
    with session_factory() as s:
        import_cohort(s, resolve_study(s, None, create=True),
                      participants_csv(person("C-1", clock().date(), email=email)))
        s.commit()
    dispatch(session_factory, clock(), settings, mailer)
    return token_from(smtp.to(email)[-1])


def test_unknown_and_malformed_links_get_a_clear_page(client):
    for token in ("nope", "A" * 43, "x" * 500, "%00", "%C3%A9t%C3%A9"):
        page = client.get(f"/r/{token}")
        assert page.status_code == 404
        assert "This link does not work" in page.get_data(as_text=True)
    for path in ("/r/", "/r/a/b", "/r/../../etc/passwd"):
        page = client.get(path)
        assert page.status_code == 404 and "Traceback" not in page.get_data(as_text=True)
    # Questionnaire pages without a link in the session are not found, not a crash.
    assert client.get("/q/").status_code == 404
    assert client.get("/q/satisfaction").status_code == 404


def test_the_email_link_opens_the_questionnaire_in_the_design_system(
    client, session_factory, settings, mailer, smtp, clock
):
    token = issue_one(session_factory, settings, mailer, smtp, clock)
    intro = client.get(f"/r/{token}", follow_redirects=True).get_data(as_text=True)
    assert "govuk-frontend.min.css" in intro and "Start now" in intro
    page = client.get("/q/satisfaction").get_data(as_text=True)
    assert 'class="govuk-radios' in page and 'name="csrf_token"' in page


def test_validation_errors_use_the_error_summary_and_keep_nothing_half_saved(
    client, session_factory, settings, mailer, smtp, clock
):
    token = issue_one(session_factory, settings, mailer, smtp, clock)
    client.get(f"/r/{token}")
    page = post_form(client, "/q/satisfaction", {"satisfaction": "not-a-choice"})
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "govuk-error-summary" in html and "<title>Error:" in html
    assert "Select one of the answers shown" in html
    # No CSRF token: refused with a page, nothing saved.
    bare = client.post("/q/satisfaction", data={"satisfaction": "satisfied"})
    assert bare.status_code == 400 and "expired" in bare.get_data(as_text=True)


def test_a_closed_link_says_so(client, session_factory, settings, mailer, smtp, clock):
    token = issue_one(session_factory, settings, mailer, smtp, clock)
    clock.advance(days=29)
    dispatch(session_factory, clock(), settings, mailer)
    page = client.get(f"/r/{token}", follow_redirects=True)
    assert "This questionnaire has closed" in page.get_data(as_text=True)


def test_staff_pages_need_a_sign_in(client):
    for url in ("/staff/", "/reports/", "/reports/default/paired",
                "/api/studies/default/reports/paired"):
        response = client.get(url)
        assert response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]
