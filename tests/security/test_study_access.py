"""Route x role x study: a researcher or evaluator given some studies sees only those.

Every route with a <slug> (read from the app's URL map, so new ones are covered) answers
404 for a study the person was not given, exactly as for a study that does not exist,
whatever their role would allow there; on a study they were given, the route x role
table holds unchanged. Someone with no studies listed sees every study (as before)."""

from __future__ import annotations

import html
from io import BytesIO

from sqlalchemy import delete, insert, select

from surveys.models import Study, User
from surveys.models.user import user_studies
from surveys.studies import create_study
from tests.helpers import csrf_token, make_study, post_form
from tests.security.conftest import (
    ARMED_ENDPOINTS,
    PHONED_ENDPOINTS,
    act_as,
    armed_study,
    phoned_study,
)
from tests.security.test_route_roles import (
    EVALUATOR,
    RESEARCHER,
    RULES,
    outcome,
    route_url,
    url_values,
)

OTHER = "other-study"


def give(session_factory, role: str, *slugs: str) -> None:
    """The first account of `role` may see exactly `slugs` (none: every study)."""
    with session_factory() as s:
        user_id = s.scalar(select(User.id).where(User.role == role).order_by(User.id))
        s.execute(delete(user_studies).where(user_studies.c.user_id == user_id))
        for slug in slugs:
            study_id = s.scalar(select(Study.id).where(Study.slug == slug))
            s.execute(insert(user_studies).values(user_id=user_id, study_id=study_id))
        s.commit()


def slug_routes(app) -> list[tuple[str, str]]:
    with_slug = {rule.endpoint for rule in app.url_map.iter_rules() if "slug" in rule.arguments}
    return sorted(key for key in RULES if key[0] in with_slug)


def request_as(app, session_factory, role: str, method: str, url: str):
    client = app.test_client()
    act_as(client, session_factory, role)
    if method == "GET":
        return client.get(url)
    token = csrf_token(client.get("/staff/sign-in").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token})


def test_every_study_route_is_404_for_a_study_not_given_and_unchanged_for_one_given(
        app, world, session_factory, clock):
    with session_factory() as s:
        create_study(s, OTHER, "Somebody else's study")
        s.commit()
    armed = armed_study(session_factory)
    phoned, phoned_ids = phoned_study(session_factory, app.extensions["surveys.settings"],
                                      clock())
    values = url_values(world)
    routes = slug_routes(app)

    def study_values(endpoint: str) -> dict:
        if endpoint in PHONED_ENDPOINTS:  # call lists answer only for a telephone wave
            return {**values, "slug": phoned, "invitation_id": phoned_ids["ZQREF-ALPHA1"]}
        return {**values, "slug": armed if endpoint in ARMED_ENDPOINTS else "default"}

    assert len(routes) >= 20, routes
    wrong = {}
    for role in (RESEARCHER, EVALUATOR):
        # Given only another study: every page, download and API of these studies is 404.
        give(session_factory, role, OTHER)
        for endpoint, method in routes:
            url = route_url(app, endpoint, study_values(endpoint))
            response = request_as(app, session_factory, role, method, url)
            if response.status_code != 404:
                wrong[(endpoint, method, role, "not given")] = response.status_code
        # Given these studies: exactly what the route x role table says.
        give(session_factory, role, "default", armed, phoned)
        for endpoint, method in routes:
            url = route_url(app, endpoint, study_values(endpoint))
            got = outcome(request_as(app, session_factory, role, method, url))
            if got != RULES[(endpoint, method)][role]:
                wrong[(endpoint, method, role, "given")] = got
        give(session_factory, role)
    assert wrong == {}


def test_lists_of_studies_show_only_those_given(app, world, session_factory):
    with session_factory() as s:
        make_study(s, OTHER, name="Somebody else's study")
        s.commit()
    for role in (RESEARCHER, EVALUATOR):
        client = app.test_client()
        act_as(client, session_factory, role)
        assert "Somebody else" in client.get("/staff/").get_data(as_text=True)  # no rows: all
        give(session_factory, role, "default")
        for url in ("/staff/", "/reports/"):
            page = client.get(url).get_data(as_text=True)
            assert "Security test study" in page and "Somebody else" not in page, (role, url)
        give(session_factory, role)
    # Admins see every study whatever rows they have.
    give(session_factory, "admin", "default")
    admin = app.test_client()
    act_as(admin, session_factory, "admin")
    assert "Somebody else" in admin.get("/staff/").get_data(as_text=True)
    assert admin.get(f"/staff/studies/{OTHER}/cohort").status_code == 200


def test_a_limited_researcher_cannot_reach_another_study_through_a_definition_upload(
        app, world, session_factory):
    with session_factory() as s:
        make_study(s, OTHER, name="Somebody else's study")
        s.commit()
    give(session_factory, RESEARCHER, "default")
    client = app.test_client()
    act_as(client, session_factory, RESEARCHER)
    definition = (f"slug: {OTHER}\nname: Taken over\nprogramme: {{en: x}}\nlanguages: [en]\n"
                  "waves:\n  - {code: wave1, instrument: wave1, offset_days: 0, "
                  "reminder_days: [7], close_days: 28}\n")
    page = post_form(client, "/staff/upload-study",
                     {"definition": (BytesIO(definition.encode()), "study.yaml")})
    assert page.status_code == 400
    assert f"there is already a study called '{OTHER}'" in html.unescape(
        page.get_data(as_text=True))
    with session_factory() as s:
        assert s.scalar(select(Study.name).where(Study.slug == OTHER)) == "Somebody else's study"
