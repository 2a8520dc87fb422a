"""The footer of every client page: accessibility statement, privacy notice and contact,
in the study's words when a personal link is open; staff pages carry none of it."""

from __future__ import annotations

from sqlalchemy import select

from surveys.models import Study
from tests.test_client_pages import issue_one
from tests.test_staff_pages import PASSWORD, sign_in, staff

FOOTER_LINKS = ('href="/help/accessibility"', 'href="/help/privacy"', 'href="/help/contact"')


def test_client_pages_link_to_the_footer_pages(
    client, session_factory, settings, mailer, smtp, clock
):
    token = issue_one(session_factory, settings, mailer, smtp, clock)
    for url in (f"/r/{token}", "/q/satisfaction"):
        html = client.get(url, follow_redirects=True).get_data(as_text=True)
        assert all(link in html for link in FOOTER_LINKS), url
    for url in ("/help/accessibility", "/help/privacy", "/help/contact"):
        assert client.get(url).status_code == 200


def test_the_privacy_notice_names_the_study_and_says_what_staff_see(
    client, session_factory, settings, mailer, smtp, clock
):
    token = issue_one(session_factory, settings, mailer, smtp, clock)
    with session_factory() as s:
        study = s.scalars(select(Study)).one()
        study.programme = {"en": "Health and Work Support", "cy": "Cymorth Iechyd a Gwaith"}
        study.messages = {"organisation": {"en": "Cardiff Work Trust", "cy": "Ymddiriedolaeth"},
                          "contact": {"en": "Call 029 2000 0000", "cy": "Ffoniwch 029 2000 0000"}}
        s.commit()
    # Before a link is opened: the service's general words.
    general = client.get("/help/privacy").get_data(as_text=True)
    assert "Cardiff Work Trust" not in general
    assert "the organisation that provides the programme" in general
    client.get(f"/r/{token}")
    privacy = client.get("/help/privacy?lang=en").get_data(as_text=True)
    for words in ("Cardiff Work Trust", "Call 029 2000 0000", "Health and Work Support",
                  "sees your answers with your reference number", "never name or identify",
                  "link to stop further messages"):
        assert words in privacy, words
    assert "will not know who gave which answers" not in privacy
    contact = client.get("/help/contact?lang=cy").get_data(as_text=True)
    assert 'lang="cy"' in contact and "Ffoniwch 029 2000 0000" in contact


def test_staff_pages_do_not_carry_the_client_footer(client, session_factory):
    pages = [client.get("/staff/sign-in").get_data(as_text=True)]
    sign_in(client, staff(session_factory, "researcher"), PASSWORD)
    pages.append(client.get("/staff/").get_data(as_text=True))
    for html in pages:
        assert "govuk-footer" in html
        assert not any(link in html for link in FOOTER_LINKS)
        assert "They do not affect any benefit claim" not in html
