"""Hostile values thrown at every form and at the JSON API: never a 500, never a trace,
always a message, and an upload that is refused changes nothing."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta
from urllib.parse import quote

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from instruments import load_instrument
from surveys import tokens
from surveys.models import Invitation, Participant
from tests.faults.hostile import (
    BIG,
    FILENAMES,
    HOSTILE,
    Tally,
    csv_file,
    examples,
    snapshot,
)
from tests.faults.test_bad_input_imports import (
    APPOINTMENTS,
    PARTICIPANTS,
    WAVE1_COLUMNS,
    WAVE2_COLUMNS,
)
from tests.helpers import csrf_token
from tests.security.conftest import act_as

FIELD_VALUE = st.one_of(HOSTILE, HOSTILE, BIG, st.lists(HOSTILE, min_size=2, max_size=4))


def signed_in(app, session_factory, role: str = "researcher"):
    client = app.test_client()
    act_as(client, session_factory, role)
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    return client, token


def form_data(token: str, fields: dict) -> MultiDict:
    data = MultiDict([("csrf_token", token)])
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data.add(name, item)
    return data


def report(name: str, tally: Tally, minimum: int) -> None:
    print(f"\n{name}: {tally.examples} examples, statuses {tally.statuses}")
    assert tally.examples >= minimum
    assert 500 not in tally.statuses


def test_sign_in_form(app, world):
    tally = Tally()
    addresses = itertools.count(1)

    @given(email=st.one_of(HOSTILE, BIG, st.just("admin@example.org")),
           password=st.one_of(HOSTILE, BIG), next_url=st.one_of(st.none(), HOSTILE),
           extra=st.dictionaries(HOSTILE.filter(bool), HOSTILE, max_size=3))
    @example(email="admin@example.org\x00", password="x", next_url=None, extra={})
    @examples(60)
    def run(email, password, next_url, extra):
        client = app.test_client()
        # A fresh address each time, so the per-address limit does not end the test early.
        n = next(addresses)
        client.environ_base["REMOTE_ADDR"] = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        token = csrf_token(client.get("/staff/sign-in").get_data(as_text=True))
        response = client.post("/staff/sign-in", query_string={"next": next_url} if next_url
                               else None,
                               data=form_data(token, {**extra, "email": email,
                                                      "password": password}))
        body = check_page_and_location(response, tally)
        if response.status_code == 200:
            assert "There is a problem" in body

    run()
    report("sign-in form", tally, 60)


def check_page_and_location(response, tally):
    from tests.faults.hostile import check_page

    body = check_page(response, tally)
    location = response.headers.get("Location", "")
    assert not location.startswith(("//", "/\\", "http")), location
    return body


def test_cohort_upload_form(app, world, session_factory, engine):
    tally = Tally()
    client, token = signed_in(app, session_factory)

    @given(participants=st.one_of(PARTICIPANTS, st.none()), appointments=APPOINTMENTS,
           names=st.tuples(FILENAMES, FILENAMES),
           extra=st.dictionaries(st.sampled_from(["participants", "appointments", "submit",
                                                  "junk"]), HOSTILE, max_size=2))
    @examples(100)
    def run(participants, appointments, names, extra):
        data = form_data(token, extra)
        if participants is not None:
            data["participants"] = (io.BytesIO(participants), names[0])
        if appointments is not None:
            data["appointments"] = (io.BytesIO(appointments), names[1])
        before = snapshot(engine)
        response = client.post("/staff/studies/default/cohort", data=data,
                               content_type="multipart/form-data")
        body = check_page_and_location(response, tally)
        if response.status_code == 400:
            assert "There is a problem" in body or "govuk-error" in body
            assert snapshot(engine) == before, "a refused upload changed the database"
        else:
            assert response.status_code == 302, response.status_code

    run()
    report("cohort upload form", tally, 100)


def test_responses_upload_form(app, world, session_factory, engine):
    tally = Tally()
    client, token = signed_in(app, session_factory)
    files = st.sampled_from(["wave1", "wave2"]).flatmap(lambda wave: st.tuples(
        st.just(wave), csv_file(WAVE1_COLUMNS if wave == "wave1" else WAVE2_COLUMNS,
                                ["participant_ref", "submitted_on", "mode"], instrument=wave)))

    @given(wave_and_file=files, wave_field=st.one_of(st.none(), HOSTILE),
           filename=FILENAMES, with_file=st.booleans())
    @examples(100)
    def run(wave_and_file, wave_field, filename, with_file):
        wave, content = wave_and_file
        data = form_data(token, {"wave": wave if wave_field is None else wave_field})
        if with_file or wave_field is None:
            data["responses"] = (io.BytesIO(content), filename)
        before = snapshot(engine)
        response = client.post("/staff/studies/default/responses", data=data,
                               content_type="multipart/form-data")
        check_page_and_location(response, tally)
        if response.status_code == 400:
            assert snapshot(engine) == before, "a refused upload changed the database"

    run()
    report("responses upload form", tally, 100)


def test_schedule_forms(app, world, session_factory):
    tally = Tally()
    client, token = signed_in(app, session_factory)
    number = st.one_of(st.integers(-10, 5000).map(str), HOSTILE, BIG)

    @given(code=st.one_of(st.sampled_from(["wave1", "wave2"]),
                          HOSTILE.filter(lambda s: s and "/" not in s and "\\" not in s)),
           fields=st.tuples(number, number, number),
           day=st.tuples(HOSTILE, HOSTILE, HOSTILE), window=st.booleans())
    # Found by Hypothesis: a 400-digit number crashed WTForms' NumberRange (OverflowError).
    @example(code="wave1", fields=("9" * 400, "7", "28"), day=("", "", ""), window=False)
    @example(code="wave1\x00", fields=("1", "7", "28"), day=("", "", ""), window=False)
    @examples(100)
    def run(code, fields, day, window):
        if window:
            response = client.post("/staff/studies/default/window", data=form_data(token, {
                "end_date-day": day[0], "end_date-month": day[1], "end_date-year": day[2]}))
        else:
            prefix = code if code in ("wave1", "wave2") else "wave1"
            response = client.post(
                f"/staff/studies/default/schedule/{quote(code, safe='')}",
                data=form_data(token, {f"{prefix}-offset_days": fields[0],
                                       f"{prefix}-reminder_days": fields[1],
                                       f"{prefix}-close_days": fields[2]}))
        check_page_and_location(response, tally)
        assert response.status_code in (302, 400, 404)

    run()
    report("schedule forms", tally, 100)


def issue_now(session_factory, settings, clock, ref: str, wave: str) -> str:
    """Open a scheduled invitation today (as the dispatcher would) and return its token."""
    with session_factory() as s:
        inv = s.scalar(select(Invitation).join(Participant).where(
            Participant.ref == ref, Invitation.wave.has(code=wave)))
        inv.nonce = tokens.new_nonce()
        inv.token_hash = tokens.hash_token(tokens.derive_token(settings.secret_key, inv.nonce))
        inv.status, inv.issued_at = "issued", clock()
        inv.closes_on = clock().date() + timedelta(days=28)
        s.commit()
        return tokens.derive_token(settings.secret_key, inv.nonce)


def test_questionnaire_pages(app, world, session_factory, settings, clock):
    tally = Tally()
    links = {"wave1": world.tokens["ZQREF-ALPHA1"],
             "wave2": issue_now(session_factory, settings, clock, "ZQREF-CHARL3", "wave2")}
    pages = {wave: [p.id for p in load_instrument(wave).pages] for wave in links}
    questions = {wave: [q.id for q in load_instrument(wave).questions()] for wave in links}
    clients = {}
    for wave, token in links.items():
        client = app.test_client()
        client.get(f"/r/{token}")
        clients[wave] = (client, csrf_token(client.get("/staff/sign-in").get_data(
            as_text=True)))

    @given(wave=st.sampled_from(["wave1", "wave2"]), data=st.data())
    @examples(150)
    def run(wave, data):
        client, token = clients[wave]
        page_id = data.draw(st.one_of(st.sampled_from(pages[wave]), HOSTILE.filter(
            lambda s: s and "/" not in s and "\\" not in s and s not in ("check", "done"))))
        fields = data.draw(st.dictionaries(
            st.one_of(st.sampled_from(questions[wave]), HOSTILE.filter(bool)),
            FIELD_VALUE, max_size=4))
        button = data.draw(st.sampled_from([{"continue": "1"}, {"save_and_exit": "1"}, {}]))
        response = client.post(f"/q/{quote(page_id, safe='')}",
                               data=form_data(token, {**fields, **button}))
        body = check_page_and_location(response, tally)
        assert response.status_code in (200, 302, 400, 404, 405), response.status_code
        if response.status_code == 400:
            assert "There is a problem" in body

    run()
    report("questionnaire pages", tally, 150)
    # Junk never reached the stored answers: every stored value is one the page allows.
    from surveys.models import Response

    with session_factory() as s:
        for response in s.scalars(select(Response).where(Response.source == "form")):
            assert set(response.answers) - {"_pages_seen"} <= set(
                questions["wave1"] + questions["wave2"])


def test_reports_json_api_and_downloads(app, world, session_factory):
    tally = Tally()
    client, _ = signed_in(app, session_factory, "evaluator")

    @given(slug=st.one_of(st.just("default"), HOSTILE.filter(
               lambda s: s and "/" not in s and "\\" not in s and s not in (".", ".."))),
           params=st.dictionaries(
               st.one_of(st.sampled_from(["follow_up", "lang", "format", "breakdown",
                                          "publication"]), HOSTILE.filter(bool)),
               st.one_of(st.sampled_from(["wave1", "wave2", "cy", "site", "1"]), HOSTILE, BIG),
               max_size=4),
           target=st.sampled_from(["/api/studies/{}/reports/paired", "/reports/{}/paired",
                                   "/reports/{}/paired.csv", "/api/studies/{}/reports/evaluation",
                                   "/reports/{}/evaluation", "/reports/{}/evaluation.csv",
                                   "/reports/{}/evaluation.xlsx"]))
    # Found by Hypothesis on PostgreSQL, which cannot store or compare NUL characters.
    @example(slug="\x00", params={}, target="/api/studies/{}/reports/paired")
    @example(slug="default", params={"follow_up": "wave\x00"}, target="/reports/{}/paired")
    @examples(100)
    def run(slug, params, target):
        response = client.get(target.format(quote(slug, safe="")), query_string=params)
        check_page_and_location(response, tally)
        assert response.status_code in (200, 400, 404), response.status_code
        if response.status_code == 200 and target.startswith("/api/studies/{}/reports/paired"):
            assert response.get_json()["follow_up"] in ("wave1", "wave2")

    run()
    report("reports JSON API and downloads", tally, 100)
