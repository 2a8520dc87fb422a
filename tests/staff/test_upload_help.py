"""Help where the work is (issue 14): the upload pages list the columns a study's files
need, with templates the importers accept; schedule errors name the wave and the problem;
answers for a questionnaire not yet due are stored only when someone confirms."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.accounts import create_user
from surveys.cohort.importer import import_cohort
from surveys.models import Invitation, Participant, Response, Study
from surveys.studies import create_study
from tests.helpers import csrf_token, make_study, participants_csv, person, sign_in

PASSWORD = "correct horse battery"


@pytest.fixture
def staff(session_factory):
    with session_factory() as s:
        create_user(s, "researcher@example.org", PASSWORD, "researcher")
        s.commit()
    return session_factory


def signed_in(client):
    sign_in(client, "researcher@example.org", PASSWORD)
    return client


@pytest.fixture
def armed(staff):
    with staff() as s:
        make_study(s, "armed", arms=["integrated", "comparison"], measures=[
            {"key": "workability"},
            {"key": "concerned_job", "kind": "binary", "better": "no",
             "label": {"en": "Concerned about losing their job"}}],
            waves=[{"code": "wave2"}])
        s.commit()
    return staff


@pytest.fixture
def ehd(staff, clock):
    """The default study: NOW-1 completed today (wave two due in 42 days), DUE-1 six weeks
    ago (wave two due today)."""
    today = clock().date()
    with staff() as s:
        study = create_study(s, "default", "Test study")
        import_cohort(s, study, participants_csv(person("NOW-1", today),
                                                 person("DUE-1", today - timedelta(days=42))),
                      today=today)
        s.commit()
    return staff


def upload(client, url: str, field: str, body: str, name: str, **extra):
    form = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(form), **extra,
                                  field: (io.BytesIO(body.encode()), name)},
                       content_type="multipart/form-data")


def listed_columns(html: str, table_id: str) -> list[str]:
    table = re.search(rf'id="{table_id}">(.*?)</table>', html, re.S).group(1)
    return re.findall(r"<code>([^<]+)</code>", table)


def test_cohort_page_lists_the_columns_of_a_study_with_arms_and_a_binary_measure(
        client, armed):
    html = signed_in(client).get("/staff/studies/armed/cohort").get_data(as_text=True)
    assert listed_columns(html, "cohort-columns") == [
        "participant_ref", "site", "completed_on", "arm", "status", "language", "email",
        "phone", "workability_end", "concerned_job_end"]
    assert "Which arm they are in: one of integrated, comparison" in html
    assert ("Concerned about losing their job at the end of the intervention: yes or no"
            in html)
    assert "workability at the end of the intervention: a whole number from 0 to 10" in html


def test_the_cohort_template_is_what_the_import_accepts(client, armed, clock):
    signed_in(client)
    template = client.get("/staff/studies/armed/cohort-template.csv")
    assert template.status_code == 200
    assert 'filename="participants-armed.csv"' in template.headers["Content-Disposition"]
    header = template.get_data(as_text=True)
    assert header == ("participant_ref,site,completed_on,arm,status,language,email,phone,"
                      "workability_end,concerned_job_end\n")
    row = f"A-1,Hull,{clock().date()},comparison,,en,a@example.org,,6,yes\n"
    done = upload(client, "/staff/studies/armed/cohort", "participants", header + row,
                  "participants.csv")
    assert done.status_code == 302
    with armed() as s:
        p = s.scalar(select(Participant).where(Participant.ref == "A-1"))
        assert (p.arm, p.baseline_1, p.baseline_2) == ("comparison", 6, 1)


def test_the_responses_template_is_what_the_import_accepts(client, ehd, clock):
    signed_in(client)
    html = client.get("/staff/studies/default/responses").get_data(as_text=True)
    columns = listed_columns(html, "columns-wave2")
    assert columns[:6] == ["participant_ref", "submitted_on", "mode", "workability",
                           "confidence", "importance"] or set(columns) >= {
        "participant_ref", "submitted_on", "mode", "workability", "confidence", "importance"}
    assert "web or telephone: how the answers were collected" in html
    template = client.get("/staff/studies/default/waves/wave2/responses-template.csv")
    header = template.get_data(as_text=True)
    assert header.rstrip("\n").split(",") == columns
    values = {"participant_ref": "DUE-1", "submitted_on": clock().date().isoformat(),
              "mode": "telephone", "workability": "7", "confidence": "6", "importance": "8"}
    row = ",".join(values.get(c, "") for c in columns) + "\n"
    done = upload(client, "/staff/studies/default/responses", "responses", header + row,
                  "answers.csv", wave="wave2")
    assert done.status_code == 302
    with ehd() as s:
        assert s.scalar(select(Response.answers["workability"].as_integer())) == 7
    assert client.get("/staff/studies/default/waves/nope/responses-template.csv"
                      ).status_code == 404


@pytest.mark.parametrize("language, reminder, end_date", [
    ("en", "End of the intervention: the reminder on day 30 must come before the "
           "questionnaire closes on day 28", "The study end date must be today or later"),
    ("cy", "Diwedd yr ymyriad: rhaid i’r nodyn atgoffa ar ddiwrnod 30 ddod cyn i’r "
           "holiadur gau ar ddiwrnod 28",
     "Rhaid i ddyddiad gorffen yr astudiaeth fod heddiw neu’n hwyrach"),
])
def test_schedule_errors_name_the_wave_and_what_is_wrong(client, ehd, clock, language,
                                                         reminder, end_date):
    signed_in(client)
    page = client.get(f"/staff/studies/default/schedule?lang={language}").get_data(
        as_text=True)
    token = csrf_token(page)
    bad = client.post("/staff/studies/default/schedule/wave1", data={
        "csrf_token": token, "wave1-offset_days": "0", "wave1-reminder_days": "7, 30",
        "wave1-close_days": "28"})
    assert bad.status_code == 400
    assert reminder in bad.get_data(as_text=True).replace("&#39;", "'")
    yesterday = clock().date() - timedelta(days=1)
    past = client.post("/staff/studies/default/window", data={
        "csrf_token": token,
        "end_date": [str(yesterday.day), str(yesterday.month), str(yesterday.year)]})
    assert past.status_code == 400
    assert end_date in past.get_data(as_text=True).replace("&#39;", "'")
    with ehd() as s:
        assert s.scalar(select(Study.end_date)) is None


def not_due_file(clock) -> str:
    return ("participant_ref,submitted_on,mode,workability,confidence,importance\n"
            f"NOW-1,{clock().date()},telephone,7,6,8\n"
            f"DUE-1,{clock().date()},telephone,5,5,5\n")


def count_responses(session_factory) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(Response))


def test_answers_for_a_questionnaire_not_yet_due_wait_for_confirmation(client, ehd, clock):
    signed_in(client)
    url = "/staff/studies/default/responses"
    warned = upload(client, url, "responses", not_due_file(clock), "early.csv", wave="wave2")
    assert warned.status_code == 200
    html = warned.get_data(as_text=True)
    assert "1 row is for a questionnaire not yet due" in html and "Nothing was imported." in html
    assert "References: NOW-1" in html
    assert 'name="confirm_not_due"' in html and "Upload anyway" in html
    assert count_responses(ehd) == 0
    done = upload(client, url, "responses", not_due_file(clock), "early.csv", wave="wave2",
                  confirm_not_due="y")
    assert done.status_code == 302
    assert count_responses(ehd) == 2
    with ehd() as s:
        statuses = s.scalars(select(Invitation.status).join(Participant).where(
            Participant.ref == "NOW-1", Invitation.due_on > clock().date())).all()
        assert statuses == ["completed"]  # it will not be issued now


def test_the_cli_refuses_rows_not_yet_due_unless_confirmed(runner, ehd, clock, tmp_path):
    path = tmp_path / "early.csv"
    path.write_text(not_due_file(clock))
    refused = runner.invoke(args=["import-responses", "--wave", "wave2", str(path)])
    assert refused.exit_code == 1
    lines = refused.stderr.strip().splitlines()
    assert lines == ["Error: 1 row is for a wave2 questionnaire not yet due (NOW-1); nothing "
                     "was imported. Add --confirm-not-due to import them anyway."]
    assert count_responses(ehd) == 0
    done = runner.invoke(args=["import-responses", "--wave", "wave2", "--confirm-not-due",
                               str(path)])
    assert done.exit_code == 0, done.output
    assert count_responses(ehd) == 2
