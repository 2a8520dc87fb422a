"""Every route, every role: one explicit rule table, checked against the app's own URL map.

A route the table does not name fails the test, so a new page cannot ship
without someone deciding who may use it. Evaluators read aggregates only:
every page they may open is checked for the cohort's references, emails and
phone numbers.
"""

from __future__ import annotations

import io
import zipfile

from flask import url_for

from instruments import load_instrument
from tests.helpers import csrf_token
from tests.security.conftest import (
    ARMED_ENDPOINTS,
    PHONED_ENDPOINTS,
    act_as,
    armed_study,
    phoned_study,
)

ANON, EVALUATOR, RESEARCHER, ADMIN = "anonymous", "evaluator", "researcher", "admin"
INTERVIEWER = "interviewer"  # call lists and telephone entry, nothing else (issue 14)
EVERYONE = (ANON, EVALUATOR, RESEARCHER, ADMIN, INTERVIEWER)
OK, SIGN_IN, FORBIDDEN = "allowed", "sent to sign in", "refused (403)"

PUBLIC = {ANON: OK, EVALUATOR: OK, RESEARCHER: OK, ADMIN: OK, INTERVIEWER: OK}
STAFF = {ANON: SIGN_IN, EVALUATOR: OK, RESEARCHER: OK, ADMIN: OK, INTERVIEWER: FORBIDDEN}
RESEARCH = {ANON: SIGN_IN, EVALUATOR: FORBIDDEN, RESEARCHER: OK, ADMIN: OK,
            INTERVIEWER: FORBIDDEN}
RESEARCHER_ONLY = {ANON: SIGN_IN, EVALUATOR: FORBIDDEN, RESEARCHER: OK, ADMIN: FORBIDDEN,
                   INTERVIEWER: FORBIDDEN}
ADMIN_ONLY = {ANON: SIGN_IN, EVALUATOR: FORBIDDEN, RESEARCHER: FORBIDDEN, ADMIN: OK,
              INTERVIEWER: FORBIDDEN}
CALLERS = {ANON: SIGN_IN, EVALUATOR: FORBIDDEN, RESEARCHER: OK, ADMIN: OK, INTERVIEWER: OK}

# (endpoint, method) -> who may. Static files and design-system assets are public
# and carry no data; they are listed in ASSETS and only checked to be public.
RULES: dict[tuple[str, str], dict[str, str]] = {
    # Clients, through their personal link (the link, not an account, is the key).
    ("respond.start", "GET"): PUBLIC,
    ("respond.open_link", "GET"): PUBLIC,
    ("respond.resume", "GET"): PUBLIC,
    ("respond.page", "GET"): PUBLIC,
    ("respond.page", "POST"): PUBLIC,
    ("respond.done", "GET"): PUBLIC,
    ("respond.saved", "GET"): PUBLIC,
    # A client's own link to stop messages, and the footer's help pages.
    ("optout.stop", "GET"): PUBLIC,
    ("optout.stop", "POST"): PUBLIC,
    ("help.accessibility", "GET"): PUBLIC,
    ("help.privacy", "GET"): PUBLIC,
    ("help.contact", "GET"): PUBLIC,
    # Signing in and out.
    ("auth.sign_in", "GET"): PUBLIC,
    ("auth.sign_in", "POST"): PUBLIC,
    ("auth.sign_out", "POST"): PUBLIC,
    # Every staff role: the list of studies (counts only) and the reports (aggregates only).
    ("staff.dashboard", "GET"): STAFF,
    ("reports.index", "GET"): STAFF,
    ("reports.paired", "GET"): STAFF,
    ("reports.paired_csv", "GET"): STAFF,
    ("reports.paired_json", "GET"): STAFF,
    ("reports.comparison_csv", "GET"): STAFF,  # the arms compared (aggregates only)
    ("reports.evaluation", "GET"): STAFF,
    ("reports.evaluation_csv", "GET"): STAFF,
    ("reports.evaluation_xlsx", "GET"): STAFF,
    ("reports.evaluation_ods", "GET"): STAFF,
    ("reports.evaluation_json", "GET"): STAFF,
    ("reports.pairs_csv", "GET"): RESEARCH,  # row-level paired scores, with references
    # Researchers (and admins): cohort, schedule, telephone entry, row-level data.
    ("staff.cohort", "GET"): RESEARCH,
    ("staff.cohort", "POST"): RESEARCH,
    ("staff.responses", "GET"): RESEARCH,
    ("staff.responses", "POST"): RESEARCH,
    ("staff.responses_csv", "GET"): RESEARCH,  # row-level answers, with references
    ("staff.responses_labelled", "GET"): RESEARCH,  # the same rows as .sav / .dta
    ("staff.pairs_labelled", "GET"): RESEARCH,  # row-level pairs, with references
    ("staff.codebook", "GET"): RESEARCH,
    ("staff.schedule", "GET"): RESEARCH,
    ("staff.update_wave", "GET"): RESEARCH,  # back to the schedule (language toggle)
    ("staff.update_wave", "POST"): RESEARCH,
    ("staff.update_window", "GET"): RESEARCH,
    ("staff.update_window", "POST"): RESEARCH,
    ("staff.invitations", "GET"): RESEARCH,
    ("staff.telephone", "POST"): CALLERS,
    # Call lists of telephone waves: interviewers too; the CSV is researchers' planning.
    ("calls.index", "GET"): CALLERS,
    ("calls.call_list", "GET"): CALLERS,
    ("calls.call", "GET"): CALLERS,
    ("calls.call", "POST"): CALLERS,  # no outcome chosen: the form again (400), nothing saved
    ("calls.call_list_csv", "GET"): RESEARCH,
    # Upload help: the columns a study's files need, header rows only (no data).
    ("staff.cohort_template", "GET"): RESEARCH,
    ("staff.responses_template", "GET"): RESEARCH,
    # Chasing a wave: who has not answered (references, contact details), pause, resume.
    ("chasing.unanswered", "GET"): RESEARCH,
    ("chasing.call_list_csv", "GET"): RESEARCH,
    ("chasing.pause", "POST"): RESEARCH,
    ("chasing.resume", "POST"): RESEARCH,
    # Researchers (and admins): participants, one at a time, and their CSV (references).
    ("participants.index", "GET"): RESEARCH,
    ("participants.participants_csv", "GET"): RESEARCH,
    ("participants.show", "GET"): RESEARCH,
    ("participants.contact", "POST"): RESEARCH,
    ("participants.resend", "POST"): RESEARCH,
    ("participants.withdraw", "POST"): RESEARCH,
    ("participants.erase", "POST"): RESEARCH,
    # The personal link to read out on the telephone: researchers who telephone, only.
    ("participants.personal_link", "POST"): RESEARCHER_ONLY,
    # Researchers (and admins): study definitions and instrument previews.
    ("studies.create", "GET"): RESEARCH,
    ("studies.create", "POST"): RESEARCH,
    ("studies.upload", "GET"): RESEARCH,
    ("studies.upload", "POST"): RESEARCH,
    ("studies.study", "GET"): RESEARCH,
    ("studies.edit", "GET"): RESEARCH,
    ("studies.edit", "POST"): RESEARCH,
    ("studies.definition", "GET"): RESEARCH,
    ("studies.preview", "GET"): RESEARCH,
    # The invited person's own link (the link, not an account, is the key).
    ("accounts.set_password", "GET"): PUBLIC,
    ("accounts.set_password", "POST"): PUBLIC,
    # Admins only.
    ("admin.audit_log", "GET"): ADMIN_ONLY,
    ("admin.audit_csv", "GET"): ADMIN_ONLY,
    ("accounts.staff_list", "GET"): ADMIN_ONLY,
    ("accounts.invite", "GET"): ADMIN_ONLY,
    ("accounts.invite", "POST"): ADMIN_ONLY,
    ("accounts.account", "GET"): ADMIN_ONLY,
    ("accounts.account", "POST"): ADMIN_ONLY,
    ("accounts.set_active", "POST"): ADMIN_ONLY,  # the admin's own: refused, the last admin
    ("accounts.unlock", "POST"): ADMIN_ONLY,
    ("accounts.reinvite", "POST"): ADMIN_ONLY,
}
# Query strings some routes need to show something (else they answer 404).
QUERY = {"staff.responses_csv": {"wave": "wave2"},
         "staff.responses_labelled": {"wave": "wave2", "fmt": "sav"},
         "staff.pairs_labelled": {"follow_up": "wave2", "fmt": "dta"},
         "staff.codebook": {"fmt": "xlsx"}}
ASSETS = {
    "static": {"filename": "app.css"},
    "govuk_static": {"filename": "govuk-frontend.min.css"},
    "govuk_assets": {"filename": "images/favicon.ico"},
}


def app_routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in ASSETS
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    }


def url_values(world) -> dict:
    first_page = load_instrument("wave1").pages[0].id
    return {
        "slug": "default",
        "code": "wave1",
        "name": "wave1",
        "invitation_id": world.invitation_ids["ZQREF-ALPHA1"],
        "ref": "ZQREF-ALPHA1",
        "page_id": first_page,
        "token": world.tokens["ZQREF-ALPHA1"],
        "invite": world.invite_token,
        # The admin's own account: deactivating the last admin is refused, so walking every
        # route changes no one's access.
        "user_id": world.users["admin"].id,
        "change": "deactivate",
    }


def route_url(app, endpoint: str, values: dict) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    query = QUERY.get(endpoint, {})  # path arguments (a file format) or the query string
    given = {**values, **query}
    with app.test_request_context():
        return url_for(endpoint, **{name: given[name] for name in rule.arguments},
                       **{k: v for k, v in query.items() if k not in rule.arguments})


def readable(response) -> str:
    """The response as text; a spreadsheet (xlsx) is unzipped and its XML read."""
    data = response.get_data()
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "\n".join(book.read(name).decode("utf-8", "replace")
                             for name in book.namelist())
    return data.decode("utf-8", "replace")


def outcome(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith("/staff/sign-in?next="):
        return SIGN_IN
    if response.status_code == 403:
        return FORBIDDEN
    body = readable(response)
    assert "your page had expired" not in body, "refused by CSRF, not by role"
    if response.status_code in (200, 302, 400):
        return OK
    return f"unexpected status {response.status_code}"


def test_every_route_has_a_rule_and_every_role_gets_exactly_that(app, world, clock):
    routes = app_routes(app)
    assert routes - set(RULES) == set(), "routes without a rule: add them to RULES"
    assert set(RULES) - routes == set(), "rules for routes that no longer exist"
    values = url_values(world)
    armed = {"slug": armed_study(app.extensions["surveys.session_factory"])}
    slug, phoned_ids = phoned_study(app.extensions["surveys.session_factory"],
                                    app.extensions["surveys.settings"], clock())
    phoned = {"slug": slug, "invitation_id": phoned_ids["ZQREF-ALPHA1"]}
    seen: dict[tuple[str, str, str], str] = {}
    for endpoint, method in sorted(RULES):
        url = route_url(app, endpoint, {**values, **(armed if endpoint in ARMED_ENDPOINTS
                                                      else {}),
                                        **(phoned if endpoint in PHONED_ENDPOINTS else {})})
        for role in EVERYONE:
            client = app.test_client()
            # Holding a client's link is what opens the questionnaire pages.
            client.get(f"/r/{world.tokens['ZQREF-ALPHA1']}")
            act_as(client, app.extensions["surveys.session_factory"], role)
            if method == "GET":
                response = client.get(url)
            else:
                token = csrf_token(client.get("/staff/sign-in").get_data(as_text=True))
                response = client.post(url, data={"csrf_token": token})
            seen[(endpoint, method, role)] = outcome(response)
            if role == EVALUATOR and response.status_code == 200:
                body = readable(response)
                leaked = [value for value in world.identifiers if value in body]
                assert not leaked, f"{endpoint} shows an evaluator {leaked}"
    expected = {
        (endpoint, method, role): allowed[role]
        for (endpoint, method), allowed in RULES.items()
        for role in EVERYONE
    }
    wrong = {key: (seen[key], want) for key, want in expected.items() if seen[key] != want}
    assert wrong == {}, f"(got, wanted) per (route, method, role): {wrong}"
    assert len(seen) == len(RULES) * len(EVERYONE)


def test_assets_are_public_and_carry_no_data(app):
    client = app.test_client()
    for endpoint, values in ASSETS.items():
        response = client.get(route_url(app, endpoint, values))
        assert response.status_code == 200, endpoint


def test_evaluator_reports_and_exports_carry_no_participant_identifiers(app, world):
    client = app.test_client()
    act_as(client, app.extensions["surveys.session_factory"], EVALUATOR)
    urls = ["/reports/", "/staff/"] + [
        f"{path}?follow_up={wave}{extra}"
        for path in ("/reports/default/paired", "/reports/default/paired.csv",
                     "/api/studies/default/reports/paired", "/reports/default/evaluation",
                     "/reports/default/evaluation.csv", "/reports/default/evaluation.xlsx",
                     "/reports/default/evaluation.ods", "/api/studies/default/reports/evaluation")
        for wave, extra in [("wave1", "")] + [
            ("wave2", extra) for extra in ("", "&publication=1", "&breakdown=site",
                                           "&breakdown=channel", "&breakdown=language",
                                           "&breakdown=appointments")]
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = readable(response)
        assert [v for v in world.identifiers if v in body] == [], url
    # A cohort of 3 is under the evaluator rule (7 or fewer people): no figures at all ...
    data = client.get("/api/studies/default/reports/paired").get_json()
    assert (data["responses"], data["linked"]) == ("[c]", "[c]")
    assert data["evaluator_rule"]["applied"]
    # ... while researchers still count the linked answers exactly.
    act_as(client, app.extensions["surveys.session_factory"], RESEARCHER)
    data = client.get("/api/studies/default/reports/paired").get_json()
    assert (data["responses"], data["linked"]) == (3, 2)


def test_telephone_entry_needs_a_researcher_even_with_the_session_set(app, world):
    """A telephone-mode session handed to an evaluator opens nothing."""
    client = app.test_client()
    act_as(client, app.extensions["surveys.session_factory"], EVALUATOR)
    with client.session_transaction() as session:
        session["invitation_id"] = world.invitation_ids["ZQREF-ALPHA1"]
        session["mode"] = "telephone"
    assert client.get("/q/").status_code == 403
    # And the invitation is forgotten, so the next try is not found at all.
    assert client.get("/q/").status_code == 404
