"""Researchers create and edit a study on the web pages (contracts section 5), with the
checks and messages of `surveys study apply`: instruments uploaded per wave, timing changes
that move what is not yet issued, new waves scheduled for everyone loaded, orphaning changes
refused with nothing changed; the definition downloaded and uploaded; instrument previews."""

from __future__ import annotations

import io
from datetime import date

import yaml
from sqlalchemy import func, select

from surveys.accounts import create_user
from surveys.cohort.importer import import_cohort
from surveys.models import AuditEvent, InstrumentSource, Invitation, Participant, Study, Wave
from surveys.studies import create_study
from surveys.studies.definition import write_definition
from tests.helpers import csrf_token, sign_in

PASSWORD = "correct horse battery"
TODAY = date(2026, 3, 2)  # the frozen clock's day

INSTRUMENT = """\
name: pilot_followup
version: "1"
audience: client
title: {en: "After your support"}
intro: {en: "A few questions about how things are now."}
pages:
  - id: concerned_job
    questions:
      - id: concerned_job
        type: yes_no
        text: {en: "Are you concerned about losing your job?"}
  - id: workability
    questions:
      - id: workability
        type: scale_0_10
        text: {en: "How many points would you give your work ability?"}
  - id: confidence
    show_if: {question: concerned_job, equals: "yes"}
    questions:
      - id: confidence
        type: scale_0_10
        text: {en: "How confident do you feel about keeping your job?"}
"""

MEASURES = [
    {"id": "concerned_job", "kind": "binary", "better": "no", "label_en": "Concerned about job"},
    {"id": "workability", "kind": "scale", "min": "0", "max": "10", "reliable_change": "2"},
    {"id": "confidence", "kind": "scale", "baseline": "no"},
]
WAVES = [
    {"code": "w1", "offset_days": "0", "reminder_days": "7", "close_days": "28"},
    {"code": "w2", "offset_days": "30", "reminder_days": "3, 10", "close_days": "28"},
    {"code": "w3", "offset_days": "90", "reminder_days": "", "close_days": "21"},
]


def researcher(client, session_factory, role: str = "researcher") -> None:
    with session_factory() as s:
        create_user(s, f"{role}@example.org", PASSWORD, role)
        s.commit()
    sign_in(client, f"{role}@example.org", PASSWORD)


def form(token: str, *, study: dict, measures: list[dict], waves: list[dict]) -> dict:
    """The study form's fields, as a browser sends them (rows numbered from 0)."""
    data: dict = {"csrf_token": token, **{k: v for k, v in study.items() if k != "languages"}}
    data["languages"] = study.get("languages", ["en"])
    # Ticked on the page unless the researcher unticks them, so a browser sends them.
    data.setdefault("send_days", ["mon", "tue", "wed", "thu", "fri", "sat"])
    for i, m in enumerate(measures):
        row = {"kind": "scale", "better": "", "baseline": "yes", "min": "", "max": "",
               "reliable_change": "", "label_en": "", "label_cy": "", **m}
        data.update({f"measures-{i}-{k}": v for k, v in row.items()})
    for i, w in enumerate(waves):
        row = {"instrument": "", "offset_days": "", "reminder_days": "", "close_days": "",
               "channels": ["email"], **w}
        if "file" in row:
            row["instrument_file"] = (io.BytesIO(row.pop("file").encode()), "pilot.yaml")
        data.update({f"waves-{i}-{k}": v for k, v in row.items()})
    return data


PILOT = {"name": "Pilot evaluation", "slug": "pilot", "programme_en": "Pilot support",
         "languages": ["en"], "disclosure_threshold": "7", "arms": ""}


def create_pilot(client):
    page = client.get("/staff/create-study")
    assert page.status_code == 200
    waves = [{**w, "file": INSTRUMENT} for w in WAVES]
    return client.post("/staff/create-study", data=form(
        csrf_token(page.get_data(as_text=True)), study=PILOT, measures=MEASURES, waves=waves),
        content_type="multipart/form-data")


def load_pilot_cohort(session_factory) -> None:
    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == "pilot"))
        import_cohort(s, study, "participant_ref,site,completed_on,concerned_job_end,"
                                "workability_end\nP-1,Leeds,2026-03-01,yes,4\n"
                                "P-2,Leeds,2026-02-20,no,6\n", today=TODAY)
        s.commit()


def edit_form(client, slug: str = "pilot") -> tuple[str, dict]:
    """The edit page's token and its fields as they are filled in (the page as shown)."""
    html = client.get(f"/staff/studies/{slug}/edit").get_data(as_text=True)
    return csrf_token(html), html


def due(session_factory, code: str) -> list[date]:
    with session_factory() as s:
        return sorted(s.scalars(select(Invitation.due_on).join(Wave).where(Wave.code == code)))


def test_researcher_creates_a_study_with_an_uploaded_instrument_then_edits_its_waves(
        client, session_factory):
    researcher(client, session_factory)
    created = create_pilot(client)
    assert created.status_code == 302, created.get_data(as_text=True)
    assert created.headers["Location"].endswith("/staff/studies/pilot")
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "created study &#39;pilot&#39; with 3 waves and 3 measures" in page
    assert "instrument pilot_followup version 1 kept" in page
    assert "Preview pilot_followup version 1" in page
    with session_factory() as s:
        study = s.scalar(select(Study).where(Study.slug == "pilot"))
        assert (study.name, study.languages, study.programme) == (
            "Pilot evaluation", ["en"], {"en": "Pilot support"})
        assert [(m.key, m.kind, m.better, m.baseline, m.reliable_change)
                for m in study.measures] == [
            ("concerned_job", "binary", "no", True, None), ("workability", "scale", "higher",
                                                            True, 2.0),
            ("confidence", "scale", "higher", False, None)]
        assert [(w.code, w.instrument, w.instrument_version, w.offset_days, w.reminder_days,
                 w.close_days) for w in study.waves] == [
            ("w1", "pilot_followup", "1", 0, [7], 28), ("w2", "pilot_followup", "1", 30, [3, 10],
                                                        28),
            ("w3", "pilot_followup", "1", 90, [], 21)]
        assert s.scalar(select(func.count()).select_from(InstrumentSource)) == 1
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "study_apply")).one()
        assert event.actor == "researcher@example.org" and event.detail["created"] is True

    load_pilot_cohort(session_factory)
    assert due(session_factory, "w2") == [date(2026, 3, 22), date(2026, 3, 31)]

    # The edit page shows the study as it is; move w2 and add a wave w4 (kept instrument).
    token, html = edit_form(client)
    assert 'value="Pilot evaluation"' in html and 'value="3, 10"' in html
    assert '<option value="pilot_followup" selected' in html
    assert html.count('<option value="pilot_followup"') == 5  # the 2 blank rows offer it too
    waves = [{**w, "instrument": "pilot_followup"} for w in WAVES]
    waves[1]["offset_days"] = "45"
    waves.append({"code": "w4", "instrument": "pilot_followup", "offset_days": "180",
                  "reminder_days": "7", "close_days": "28"})
    saved = client.post("/staff/studies/pilot/edit", data=form(
        token, study={k: v for k, v in PILOT.items() if k != "slug"}, measures=MEASURES,
        waves=waves), content_type="multipart/form-data", follow_redirects=True)
    body = saved.get_data(as_text=True)
    assert saved.status_code == 200, body
    assert "wave w2: offset_days 30 -&gt; 45" in body
    assert "wave w2: 2 questionnaires not yet issued moved" in body
    assert "wave w4: added" in body
    assert "2 questionnaires scheduled for the new waves" in body
    assert due(session_factory, "w2") == [date(2026, 4, 6), date(2026, 4, 15)]
    assert due(session_factory, "w4") == [date(2026, 8, 19), date(2026, 8, 28)]
    with session_factory() as s:
        assert s.scalar(select(Wave.instrument_version).where(Wave.code == "w4")) == "1"
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "study_apply")) == 2


def test_a_change_that_would_orphan_data_is_refused_with_the_reason_and_changes_nothing(
        client, session_factory):
    researcher(client, session_factory)
    assert create_pilot(client).status_code == 302
    load_pilot_cohort(session_factory)
    with session_factory() as s:
        before = write_definition(s.scalar(select(Study).where(Study.slug == "pilot")))
    token, _ = edit_form(client)
    measures = [dict(m) for m in MEASURES]
    measures[1]["remove"] = "y"  # workability has stored baselines
    waves = [{**w, "instrument": "pilot_followup"} for w in WAVES]
    waves[0]["offset_days"] = "5"
    refused = client.post("/staff/studies/pilot/edit", data=form(
        token, study={**PILOT, "name": "Renamed pilot"}, measures=measures, waves=waves),
        content_type="multipart/form-data")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "govuk-error-summary" in body and "Correct these problems and save again" in body
    assert "measure workability cannot be removed: it has 2 stored baselines and 0 answers" \
        in body
    assert 'value="Renamed pilot"' in body  # what the researcher typed is kept
    # A setting check_definition refuses: the same words as `study apply`.
    waves[0]["offset_days"], waves[1]["reminder_days"] = "0", "3, 40"
    bad = client.post("/staff/studies/pilot/edit", data=form(
        token, study=PILOT, measures=MEASURES, waves=waves), content_type="multipart/form-data")
    assert bad.status_code == 400
    assert "wave w2.reminder_days: a reminder must come before the wave closes (close_days 28)" \
        in bad.get_data(as_text=True)
    with session_factory() as s:
        assert write_definition(s.scalar(select(Study).where(Study.slug == "pilot"))) == before
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "study_apply")) == 1
    assert due(session_factory, "w1") == [date(2026, 2, 20), date(2026, 3, 1)]


def test_create_refuses_a_taken_slug_and_bad_settings_with_the_study_apply_messages(
        client, session_factory):
    researcher(client, session_factory)
    assert create_pilot(client).status_code == 302
    again = create_pilot(client)
    assert again.status_code == 400
    assert "slug: there is already a study called &#39;pilot&#39;" in again.get_data(as_text=True)
    page = client.get("/staff/create-study").get_data(as_text=True)
    bad = client.post("/staff/create-study", data=form(
        csrf_token(page), study={**PILOT, "slug": "Bad Slug", "programme_en": ""},
        measures=[{"id": "x", "kind": "binary", "better": "higher"}],
        waves=[{"code": "w1", "instrument": "no_such_thing", "offset_days": "soon"}]),
        content_type="multipart/form-data")
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400
    for words in ("slug: needs 1-64 characters", "programme: needs a text in English (en)",
                  "measure x.better: must be yes or no for a binary measure",
                  "wave w1.offset_days: must be a whole number from 0 to 3650 "
                  "(got &#39;soon&#39;)"):
        assert words in body, words
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Study)) == 1


def test_the_definition_downloads_as_yaml_and_an_uploaded_one_is_applied(
        client, session_factory):
    researcher(client, session_factory)
    assert create_pilot(client).status_code == 302
    yaml_file = client.get("/staff/studies/pilot/definition.yaml")
    assert yaml_file.status_code == 200
    assert "attachment" in yaml_file.headers["Content-Disposition"]
    document = yaml.safe_load(yaml_file.get_data(as_text=True))
    assert document["slug"] == "pilot" and len(document["waves"]) == 3

    def upload(text: str):
        page = client.get("/staff/upload-study").get_data(as_text=True)
        return client.post("/staff/upload-study", data={
            "csrf_token": csrf_token(page),
            "definition": (io.BytesIO(text.encode()), "study.yaml")},
            content_type="multipart/form-data")

    document["waves"][2]["instrument"] = "instruments/pilot.yaml"
    refused = upload(yaml.safe_dump(document))
    assert refused.status_code == 400
    assert ("wave w3.instrument: &#39;instruments/pilot.yaml&#39; is a path to a file, and an "
            "uploaded definition has no folder to read it from") in refused.get_data(as_text=True)
    document["waves"][2]["instrument"] = "pilot_followup"
    document["name"] = "Pilot, renamed"
    applied = upload(yaml.safe_dump(document))
    assert applied.status_code == 302
    shown = client.get(applied.headers["Location"]).get_data(as_text=True)
    assert "name: Pilot evaluation -&gt; Pilot, renamed" in shown
    assert upload("slug: [").status_code == 400


def test_researchers_preview_each_instrument_version_in_each_language(client, session_factory):
    researcher(client, session_factory)
    assert create_pilot(client).status_code == 302
    preview = client.get("/staff/studies/pilot/instruments/pilot_followup")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Are you concerned about losing your job?" in html
    assert 'type="radio"' in html and 'name="workability"' in html
    assert "Shown only if: concerned_job = yes" in html
    assert "Show in Welsh" not in html  # an English-only study
    with session_factory() as s:
        create_study(s, "ehd", "EHD evaluation")
        s.commit()
    study_page = client.get("/staff/studies/ehd").get_data(as_text=True)
    assert "/staff/studies/ehd/instruments/wave2?version=2024.1" in study_page
    welsh = client.get("/staff/studies/ehd/instruments/wave2?language=cy").get_data(as_text=True)
    assert "Tybiwch fod gan eich gallu i weithio" in welsh and 'lang="cy"' in welsh
    assert client.get("/staff/studies/ehd/instruments/ehp_staff").status_code == 404
    assert client.get("/staff/studies/ehd/instruments/wave2?version=1999").status_code == 404


STUDY_URLS = ("/staff/create-study", "/staff/upload-study", "/staff/studies/pilot",
              "/staff/studies/pilot/edit", "/staff/studies/pilot/definition.yaml",
              "/staff/studies/pilot/instruments/pilot_followup")


def test_evaluators_may_not_define_studies(client, session_factory):
    researcher(client, session_factory)
    assert create_pilot(client).status_code == 302
    client.post("/staff/sign-out", data={"csrf_token": csrf_token(
        client.get("/staff/").get_data(as_text=True))})
    for url in STUDY_URLS:
        assert client.get(url).status_code == 302, url  # signed out: to sign in
    researcher(client, session_factory, "evaluator")
    assert "Create a study" not in client.get("/staff/").get_data(as_text=True)
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    for url in STUDY_URLS:
        assert client.get(url).status_code == 403, url
        assert client.post(url, data={"csrf_token": token}).status_code in (403, 405), url
    with session_factory() as s:
        assert s.scalar(select(Study.name)) == "Pilot evaluation"


def test_a_post_without_its_csrf_token_changes_nothing(client, session_factory):
    researcher(client, session_factory)
    data = form("", study=PILOT, measures=MEASURES, waves=[{**w, "file": INSTRUMENT}
                                                           for w in WAVES])
    del data["csrf_token"]
    refused = client.post("/staff/create-study", data=data, content_type="multipart/form-data")
    assert refused.status_code == 400 and "your page had expired" in refused.get_data(as_text=True)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Study)) == 0
        assert s.scalar(select(func.count()).select_from(Participant)) == 0


def test_the_form_sets_the_sending_hours_channels_and_message_words(client, session_factory):
    """Issue 15 on the study page: time zone, sending hours, who runs the study and whom to
    contact, each wave's channels and words; the same checks as `study apply`."""
    researcher(client, session_factory)
    assert create_pilot(client).status_code == 302
    token, html = edit_form(client)
    assert 'value="Europe/London"' in html and 'value="09:00"' in html  # the defaults shown
    waves = [{**w, "instrument": "pilot_followup"} for w in WAVES]
    waves[1].update(channels=["email", "sms"], subject_en="Six weeks on: two minutes, please",
                    minutes="2")
    study = {**{k: v for k, v in PILOT.items() if k != "slug"}, "time_zone": "Europe/London",
             "send_from": "10:00", "send_to": "18:30",
             "send_days": ["mon", "tue", "wed", "thu", "fri"],
             "organisation_en": "The Pilot research team", "contact_en": "pilot@example.org"}
    saved = client.post("/staff/studies/pilot/edit", data=form(
        token, study=study, measures=MEASURES, waves=waves),
        content_type="multipart/form-data", follow_redirects=True)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    with session_factory() as s:
        pilot = s.scalar(select(Study).where(Study.slug == "pilot"))
        assert pilot.send_window == {"from": "10:00", "to": "18:30",
                                     "days": ["mon", "tue", "wed", "thu", "fri"]}
        assert pilot.messages == {"organisation": {"en": "The Pilot research team"},
                                  "contact": {"en": "pilot@example.org"}}
        w2 = next(w for w in pilot.waves if w.code == "w2")
        assert w2.channels == ["email", "sms"]
        assert w2.messages == {"subject": {"en": "Six weeks on: two minutes, please"},
                               "minutes": 2}
    _, html = edit_form(client)
    assert 'value="18:30"' in html and 'value="The Pilot research team"' in html

    # Bad settings: the study apply words, nothing changed.
    waves[1]["channels"] = []
    bad = client.post("/staff/studies/pilot/edit", data=form(
        token, study={**study, "time_zone": "Europe/Londn", "send_from": "19:00"},
        measures=MEASURES, waves=waves), content_type="multipart/form-data")
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "&#39;Europe/Londn&#39; is not a known time zone" in body
    assert "from (19:00) must be before to (18:30)" in body
    assert "wave w2.channels: must list how the wave reaches clients" in body
    with session_factory() as s:
        assert s.scalar(select(Study.time_zone).where(Study.slug == "pilot")) == "Europe/London"
