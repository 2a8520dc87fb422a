"""A client whose cohort row says `cy` does everything in Welsh: both invitations and a
reminder by email, every page of both waves, the validation messages, check answers,
and dates written the Welsh way (Babel's `cy` locale)."""

from __future__ import annotations

from sqlalchemy import select

from instruments import load_instrument, text
from scheduler.jobs import dispatch
from surveys.models import Invitation
from tests.helpers import participants_csv, person, token_from
from tests.i18n.walk import (
    open_and_start,
    page_text,
    post_page,
    send_answers,
    stored_response,
    walk,
)

WAVE1 = {
    "satisfaction": "satisfied",
    "channel_appropriate": "agree",
    "number_appropriate": "agree",
    "length_appropriate": "neither",
    "honest_open": "strongly_agree",
    "trusted_ehp": "agree",
    "understood_circumstances": "agree",
    "open_up_vs_work_coach": "more_able",
    "identified_obstacles": "agree",
    "identified_solutions": "disagree",
    "read_plan": "yes",
    "plan_tailored": "agree",
    "plan_accurate": "agree",
    "plan_actionable": "neither",
    "plan_will_act": "agree",
    "right_work_health": "agree",
    "outlook_change": "improved",
    "confidence_change": "no_difference",
    "importance_change": "no_difference",
    "support_change": "improved",
    "comments": "Roedd yr ymgynghorydd yn garedig iawn – diolch o galon. Ŵyn, ŷd.",
}
WAVE2 = {
    "workability": "6",
    "confidence": "7",
    "importance": "9",
    "steps_taken": "some",
    "steps_helped": "yes",
    "steps_reasons": ["health", "other"],
    "steps_reasons_other": "Roeddwn i'n gofalu am fy mam.",
    "more_steps_planned": "all",
    "seen_work_coach": "yes",
    "discussed_plan": "no",
    "work_coach_relationship": "improved",
}

# Words of the design system and the service chrome, in GOV.UK's Welsh.
WELSH_CHROME = ("Parhau", "Cadw a dod yn ôl yn nes ymlaen", "Yn ôl", "Arolygon iechyd a gwaith",
                "Neidio i'r prif gynnwys", "© Hawlfraint y Goron")
ENGLISH_CHROME = ("Continue", "Save and come back later", "Skip to main content",
                  "Crown copyright", "There is a problem", "Error:")


def assert_welsh_page(instrument, page, answers_lang="cy"):
    """A question page wholly in Welsh: chrome, question wording and answer labels."""
    shown = page.text
    assert '<html lang="cy"' in page.html, page.id
    for words in WELSH_CHROME:
        assert words in shown, (page.id, words)
    for words in ENGLISH_CHROME:
        assert words not in shown, (page.id, words)
    questions = next(p for p in instrument.pages if p.id == page.id).questions
    for question in questions:
        assert text(question.text, answers_lang) in " ".join(shown.split()), (page.id, question.id)
        assert text(question.text, "en") not in shown, (page.id, question.id)
        for choice in question.choices:
            assert text(choice.label, answers_lang) in shown, (page.id, choice.value)
    # The toggle offers English, on this very page.
    assert f'href="/q/{page.id}?lang=en"' in page.html


def test_a_welsh_client_answers_both_waves_in_welsh_from_email_to_the_last_page(
    app, client, runner, smtp, session_factory, settings, mailer, clock, tmp_path
):
    cohort = tmp_path / "participants.csv"
    cohort.write_text(participants_csv(
        person("CY-001", clock().date(), email="cleient@example.org", language="cy",
               scores=(3, 4, 8)),
    ), encoding="utf-8")
    assert runner.invoke(args=["import-cohort", "--participants", str(cohort)]).exit_code == 0

    # Wave one: the invitation is in Welsh, with a Welsh date.
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1
    [email] = smtp.to("cleient@example.org")
    assert email["Subject"] == ("Dywedwch wrthym sut rydych chi'n dod yn eich blaen ar ôl eich "
                                "Trafodaeth Cyflogaeth ac Iechyd")
    body = email.get_body(("plain",)).get_content()
    assert body.startswith("Helo,")
    assert "Diolch am gymryd rhan yn y rhaglen Trafodaeth Cyflogaeth ac Iechyd." in body
    assert "Mae'r ddolen yn gweithio tan 30 Mawrth 2026." in body
    assert "Stop getting" not in body and "/stop/" in body  # the way to stop, in Welsh
    assert "Peidiwch â rhannu'r ddolen hon" in body
    assert "Thank you" not in body and "March" not in body
    rich = email.get_body(("html",)).get_content()
    assert '<html lang="cy">' in rich and "Ateb yr holiadur" in rich

    wave1 = load_instrument("wave1")
    intro, first = open_and_start(client, token_from(email))
    assert text(wave1.title, "cy") in intro
    assert "Gallwch ateb tan 30 Mawrth 2026." in intro
    assert "Dechrau nawr" in intro and "Start now" not in intro

    # Nothing chosen: the GOV.UK error pattern, in Welsh, with the toggle still there.
    refused = post_page(client, first, {})
    assert refused.status_code == 400
    shown = page_text(refused)
    assert "Mae problem wedi codi" in shown
    assert '<span class="govuk-visually-hidden">Gwall:</span> Dewiswch ateb' in shown
    assert "<title>Gwall:" in shown
    assert "Select an answer" not in shown and "There is a problem" not in shown
    assert f'href="{first}?lang=en"' in refused.get_data(as_text=True)

    pages = walk(client, first, WAVE1, on_page=lambda page: assert_welsh_page(wave1, page))
    assert "your_plan" in [p.id for p in pages]  # routed by "read_plan = yes"

    check = page_text(client.get("/q/check"))
    assert "Gwiriwch eich atebion cyn eu hanfon" in check and "Newid" in check
    assert "Anfon atebion" in check
    satisfaction = wave1.question("satisfaction")
    chosen = next(c for c in satisfaction.choices if c.value == "satisfied")
    assert text(chosen.label, "cy") in check
    assert WAVE1["comments"] in check
    assert "Check your answers" not in check
    assert send_answers(client).headers["Location"].endswith("/q/done")
    done = page_text(client.get("/q/done"))
    assert "Atebion wedi'u hanfon" in done and "Diolch am eich amser" in done

    # Opening the link again: already answered, in Welsh, with the Welsh date.
    again = page_text(client.get(f"/r/{token_from(email)}", follow_redirects=True))
    assert "Rydych chi eisoes wedi ateb yr holiadur hwn" in again
    assert "Cawsom eich atebion ar 2 Mawrth 2026." in again

    # Wave two six weeks later; the client waits for the reminder, also in Welsh.
    clock.advance(days=42)
    dispatch(session_factory, clock(), settings, mailer)
    clock.advance(days=7)
    dispatch(session_factory, clock(), settings, mailer)
    wave2_mails = [m for m in smtp.to("cleient@example.org") if m is not email]
    # Wave two says it is a follow-up (issue 15), in Welsh; then its reminder.
    assert [m["Subject"].split(":")[0] for m in wave2_mails] == [
        "Holiadur dilynol", "Nodyn atgoffa"]
    reminder = wave2_mails[1].get_body(("plain",)).get_content()
    assert "Yn ddiweddar, gwnaethom ofyn i chi ateb holiadur byr" in reminder
    assert "Mae'r ddolen yn gweithio tan 11 Mai 2026." in reminder

    wave2 = load_instrument("wave2")
    intro, first = open_and_start(client, token_from(wave2_mails[1]))
    assert text(wave2.title, "cy") in intro
    refused = page_text(post_page(client, first, {"workability": "11"}))
    assert "Rhowch rif o 0 i 10" in refused and "Enter a number" not in refused
    pages = walk(client, first, WAVE2, on_page=lambda page: assert_welsh_page(wave2, page))
    ids = [p.id for p in pages]
    assert {"steps_helped", "steps_reasons", "steps_reasons_other", "more_steps_planned",
            "discussed_plan", "work_coach_relationship"} <= set(ids)
    free_text = next(p for p in pages if p.id == "steps_reasons_other")
    assert "Gallwch roi hyd at" in free_text.text and "o nodau" in free_text.text
    assert 'data-i18n.characters-under-limit.two="Mae gennych %{count} nod yn weddill"' in (
        free_text.html)
    assert 'data-i18n.characters-under-limit.other="Mae gennych %{count} o nodau yn weddill"' in (
        free_text.html)
    assert "You can enter up to" not in free_text.text
    assert send_answers(client).headers["Location"].endswith("/q/done")

    first_wave = stored_response(session_factory, "CY-001", "wave1")
    second_wave = stored_response(session_factory, "CY-001", "wave2")
    assert first_wave.status == second_wave.status == "submitted"
    assert first_wave.answers["comments"] == WAVE1["comments"]
    assert first_wave.answers["plan_will_act"] == "agree"
    assert second_wave.answers["steps_reasons"] == ["health", "other"]
    assert second_wave.answers["workability"] == 6
    assert second_wave.mode == "web"
    with session_factory() as s:
        statuses = sorted(s.scalars(select(Invitation.status)).all())
    assert statuses == ["completed", "completed"]

    # The evaluators' report can be read in Welsh too, caveats included.
    out = runner.invoke(args=["report", "paired", "--follow-up", "wave2", "--format", "json",
                              "--lang", "cy"])
    assert out.exit_code == 0, out.output
    assert "dangosol yn unig; dylid eu trin yn ofalus" in out.output
    assert "Nid oes grŵp cymharu" in out.output
