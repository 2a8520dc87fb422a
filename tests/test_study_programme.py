"""Clients hear of their own study's programme, in its languages: the emails and the pages
of an English-only Health and Work Support study never speak of the EHD, nor in Welsh."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from scheduler.jobs import dispatch
from surveys.cohort.importer import import_cohort
from surveys.invitations.emails import build_email
from surveys.models import Participant, Study, Wave
from surveys.studies import create_study
from tests.helpers import participants_csv, person, token_from
from tests.i18n.test_welsh_journey import WAVE1
from tests.i18n.walk import open_and_start, page_text, send_answers, walk

PROGRAMME = "Health and Work Support"
EHD = "Employment and Health Discussion"


def english_only_study(session_factory, clock, *people, welsh: tuple[str, ...] = ()) -> None:
    """The HWS study with the EHD's instruments; `welsh` clients have `cy` on their record,
    a language the study does not have."""
    with session_factory() as s:
        study = create_study(s, "hws", "HWS evaluation", programme={"en": PROGRAMME},
                             languages=["en"])
        import_cohort(s, study, participants_csv(*people))
        for ref in welsh:
            s.scalar(select(Participant).where(Participant.ref == ref)).language = "cy"
        s.commit()


def parts(message) -> tuple[str, str, str]:
    # strip(): Python folds some subjects of this length before the whole value.
    return (message["Subject"].strip(), message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def test_emails_name_the_studys_programme_in_its_language_for_every_wave(
    session_factory, settings, mailer, smtp, clock
):
    today = clock().date()
    english_only_study(session_factory, clock,
                       person("H-1", today, email="h1@example.org"),
                       person("H-2", today, email="h2@example.org"), welsh=("H-2",))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 2
    for address in ("h1@example.org", "h2@example.org"):
        [email] = smtp.to(address)
        subject, plain, rich = parts(email)
        assert subject == f"Tell us how you are getting on after your {PROGRAMME}"
        assert plain.startswith("Hello,")
        assert f"Thank you for taking part in the {PROGRAMME}. We would like to hear" in plain
        assert PROGRAMME in rich and '<html lang="en">' in rich
        assert "follow-up" not in plain
        # No Welsh for a study without it, even for a client whose record says cy.
        assert email["Content-Language"] == "en" and "Helo" not in plain
        assert EHD not in subject + plain + rich

    clock.advance(days=42)  # wave two: a follow-up, then its reminder a week later
    dispatch(session_factory, clock(), settings, mailer)
    clock.advance(days=7)
    dispatch(session_factory, clock(), settings, mailer)
    follow_up, reminder = smtp.to("h1@example.org")[-2:]
    subject, plain, rich = parts(follow_up)
    # Wave two's subject says it is a follow-up (issue 15): not the same words as wave one.
    assert subject == f"Follow-up questionnaire: how are you getting on after your {PROGRAMME}?"
    assert "This is a follow-up questionnaire" in plain and "follow-up" in rich
    subject, plain, rich = parts(reminder)
    assert subject == f"Reminder: tell us how you are getting on after your {PROGRAMME}"
    assert f"a short questionnaire about your {PROGRAMME}. If you have not had time" in plain
    assert all(EHD not in "".join(parts(m)) for m in smtp.messages)


def test_a_programme_name_is_escaped_in_the_html_email_and_kept_to_one_line_in_the_subject():
    wave = Wave(code="wave1", instrument="wave1", offset_days=0)
    Study(slug="odd", name="Odd", programme={"en": "Work &\n <Health>"}, languages=["en"],
          waves=[wave])
    email = build_email(kind="invitation", to="a@example.org", sender="s@example.org",
                        language="cy", link="http://surveys.test/r/x",
                        closes_on=date(2026, 3, 30), wave=wave)
    subject, plain, rich = parts(email)
    assert subject == "Tell us how you are getting on after your Work & <Health>"
    assert "taking part in the Work & <Health>." in plain
    assert "taking part in the Work &amp; &lt;Health&gt;." in rich and "<Health>" not in rich


def title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1)


def test_client_pages_name_the_programme_and_offer_only_the_studys_language(
    client, session_factory, settings, mailer, smtp, clock
):
    today = clock().date()
    english_only_study(session_factory, clock,
                       person("H-1", today, email="h1@example.org"),
                       person("H-2", today, email="h2@example.org"), welsh=("H-2",))
    dispatch(session_factory, clock(), settings, mailer)

    # A client whose record says cy gets the study's one language, with no toggle, and
    # asking for Welsh by hand changes nothing.
    intro, first = open_and_start(client, token_from(smtp.to("h2@example.org")[0]))
    assert '<html lang="en"' in intro and "Start now" in intro
    assert PROGRAMME in intro and title(intro).strip().endswith(f"– {PROGRAMME}")
    assert 'hreflang="cy"' not in intro and "Cymraeg" not in intro
    asked = client.get("/q/?lang=cy").get_data(as_text=True)
    assert '<html lang="en"' in asked and "Start now" in asked and "Dechrau nawr" not in asked
    question = client.get(f"{first}?lang=cy").get_data(as_text=True)
    assert '<html lang="en"' in question and "Continue" in question
    assert f"– {PROGRAMME}" in title(question) and 'hreflang="cy"' not in question

    # (The EHD's own instruments name it in their questions: the pages around them do not.)
    pages = walk(client, first, WAVE1)
    assert all(title(p.text).strip().endswith(f"– {PROGRAMME}") for p in pages)
    assert all('hreflang="cy"' not in p.html for p in pages)
    assert send_answers(client).headers["Location"].endswith("/q/done")
    done = page_text(client.get("/q/done"))
    assert "Answers sent" in done and PROGRAMME in done and EHD not in done
    again = page_text(client.get(f"/r/{token_from(smtp.to('h2@example.org')[0])}",
                                 follow_redirects=True))
    assert "You have already answered" in again and PROGRAMME in again

    # The other client's link has closed by the time they open it.
    clock.advance(days=29)
    dispatch(session_factory, clock(), settings, mailer)
    closed = page_text(client.get(f"/r/{token_from(smtp.to('h1@example.org')[0])}",
                                  follow_redirects=True))
    assert "This questionnaire has closed" in closed and PROGRAMME in closed
    assert EHD not in closed and 'hreflang="cy"' not in closed


def test_the_start_page_names_no_single_programme(client):
    assert EHD not in page_text(client.get("/"))


def test_a_bilingual_studys_clients_keep_the_toggle_and_their_welsh(
    client, session_factory, settings, mailer, smtp, clock
):
    with session_factory() as s:
        study = create_study(s, "ehd", "EHD evaluation")  # the EHD's programme, en and cy
        import_cohort(s, study, participants_csv(
            person("W-1", clock().date(), email="w1@example.org", language="cy")))
        s.commit()
    dispatch(session_factory, clock(), settings, mailer)
    intro, _first = open_and_start(client, token_from(smtp.to("w1@example.org")[0]))
    assert '<html lang="cy"' in intro and "Trafodaeth Cyflogaeth ac Iechyd" in intro
    assert 'hreflang="en"' in client.get("/q/").get_data(as_text=True)
    english = page_text(client.get("/q/?lang=en"))
    assert "Start now" in english and EHD in english
