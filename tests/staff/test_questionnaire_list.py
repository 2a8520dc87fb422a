"""The questionnaires page and the cohort page list everything a page at a time (issue 14:
the questionnaire list stopped at 200 rows, the cohort page at 500), say so when nothing
matches, and describe each questionnaire's messages in words a researcher can act on."""

from __future__ import annotations

import re

from sqlalchemy import select

from surveys.models import Invitation, Participant
from tests.staff.test_participants import as_role, study_world, text  # noqa: F401

BASE = "/staff/studies/default/invitations"


def rows_on(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="govuk-table__header"><a class="govuk-link" '
                      r'href="/staff/studies/default/participants/([A-Za-z0-9_-]+)">', html)


def test_every_questionnaire_is_reachable_a_page_at_a_time(client, study_world):  # noqa: F811
    as_role(client, "researcher")
    first = text(client.get(BASE))
    # 122 participants, two waves each.
    assert "Showing 1 to 50 of 244 questionnaires, latest due first" in first
    assert len(rows_on(first)) == 50 and "govuk-pagination" in first
    last = text(client.get(f"{BASE}?page=5"))
    assert "Showing 201 to 244 of 244 questionnaires" in last
    seen = set()
    for n in range(1, 6):
        page = text(client.get(f"{BASE}?page={n}"))
        seen |= {(ref, wave) for ref, wave in re.findall(
            r'participants/([A-Za-z0-9_-]+)">[^<]*</a></th>\s*<td class="govuk-table__cell">'
            r'([^<]+)</td>', page)}
    assert len(seen) == 244  # nobody on two pages, nobody missed


def test_filters_and_reference_search_keep_to_the_pages(client, study_world):  # noqa: F811
    as_role(client, "researcher")
    html = text(client.get(f"{BASE}?ref=ab-00&wave=wave1"))
    assert sorted(rows_on(html)) == [f"AB-{i:03}" for i in range(10)]
    assert "Showing 1 to 10 of 10 questionnaires" in html
    scheduled = text(client.get(f"{BASE}?wave=wave2&status=scheduled&page=2"))
    assert "Showing 51 to 100 of 122 questionnaires" in scheduled
    # The page links keep the filters.
    links = scheduled.split('class="govuk-pagination"')[1]
    assert "wave=wave2" in links and "status=scheduled" in links


def test_nothing_found_says_so_and_bad_filters_get_one_line(client, study_world):  # noqa: F811
    as_role(client, "researcher")
    none = client.get(f"{BASE}?ref=QQ")
    assert none.status_code == 200
    assert "No questionnaires match these filters." in text(none)
    for query, message in (
            ("page=9", "Enter a page number from 1 to 5"),
            ("page=x", "Enter a page number from 1 to 5"),
            ("wave=wave9", "There is no wave called &#39;wave9&#39; in this study"),
            ("status=lost", "Select a questionnaire status from the list"),
            ("ref=%25", "Enter a reference using only letters, digits, hyphens and underscores")):
        response = client.get(f"{BASE}?{query}")
        html = text(response)
        assert response.status_code == 400, query
        assert message in html and "<title>Error: Questionnaires" in html, query
        assert "Error: Error:" not in html


def test_messages_are_described_in_words_with_what_to_do(
        client, study_world, session_factory):  # noqa: F811
    as_role(client, "researcher")
    # A wave-two questionnaire is not due: not "no contact details" for a client with email.
    html = text(client.get(f"{BASE}?ref=AB-001&wave=wave2"))
    assert "not sent yet: not due" in html and "no contact details" not in html
    # An email given up after its last retry: what happened, where to fix it, the server's
    # words kept behind a summary.
    with session_factory() as s:
        invitation = s.scalar(select(Invitation).join(Participant).where(
            Participant.ref == "AB-002", Invitation.status == "issued"))
        invitation.delivery_status, invitation.last_error = "failed", "554 mailbox unavailable"
        s.commit()
    failed = text(client.get(f"{BASE}?status=failed"))
    assert rows_on(failed) == ["AB-002"]
    assert "The email could not be delivered after every retry." in failed
    assert "Check the email address and send the link again" in failed
    assert "What the mail server said" in failed and "554 mailbox unavailable" in failed


def test_the_cohort_page_lists_everyone_a_page_at_a_time(client, study_world):  # noqa: F811
    as_role(client, "researcher")
    first = text(client.get("/staff/studies/default/cohort"))
    assert "122 participants" in first and "first 500" not in first
    assert "Showing 1 to 50 of 122 participants" in first
    last = text(client.get("/staff/studies/default/cohort?page=3"))
    assert "Showing 101 to 122 of 122 participants" in last
    assert "/staff/studies/default/participants/ZED-1" in last
    bad = client.get("/staff/studies/default/cohort?page=7")
    assert bad.status_code == 400
    assert "Enter a page number from 1 to 3" in text(bad)
