from tests.helpers import csrf_token
from tests.security.conftest import act_as
from tests.security.test_route_roles import EVERYONE, RULES, outcome, route_url, url_values


def test_mine(app, world):
    values = url_values(world)
    wrong = {}
    for (endpoint, method), allowed in RULES.items():
        if not endpoint.startswith(("accounts.", "admin.")):
            continue
        url = route_url(app, endpoint, values)
        for role in EVERYONE:
            client = app.test_client()
            act_as(client, app.extensions["surveys.session_factory"], role)
            if method == "GET":
                response = client.get(url)
            else:
                token = csrf_token(client.get("/staff/sign-in").get_data(as_text=True))
                response = client.post(url, data={"csrf_token": token})
            got = outcome(response)
            if got != allowed[role]:
                wrong[(endpoint, method, role)] = (got, allowed[role])
    assert wrong == {}
