"""The whole loop with a frozen clock: import, wave 1 by email, answer, wave 2, report."""

from __future__ import annotations

import json
from datetime import date

from scheduler.jobs import dispatch
from tests.helpers import (
    WAVE1_ANSWERS,
    WAVE2_ANSWERS,
    participants_csv,
    person,
    post_form,
    token_from,
)


def answer_everything(client, token: str, answers: dict) -> list[str]:
    """Walk the questionnaire page by page as a client would; return the page ids seen."""
    seen = []
    response = client.get(f"/r/{token}", follow_redirects=True)
    assert response.status_code == 200
    location = client.get("/q/", follow_redirects=False)
    html = location.get_data(as_text=True)
    # The intro page links to the first page.
    import re

    url = re.search(r'href="(/q/[a-z0-9_]+)"', html).group(1)
    for _ in range(40):
        if url.endswith("/check"):
            break
        page_id = url.rsplit("/", 1)[1]
        seen.append(page_id)
        page = client.get(url).get_data(as_text=True)
        names = set(re.findall(r'name="([a-z0-9_]+)"', page)) - {"csrf_token", "continue",
                                                                 "save_and_exit"}
        data = {name: answers[name] for name in names if name in answers}
        result = post_form(client, url, {**data, "continue": "1"})
        assert result.status_code == 302, (page_id, result.get_data(as_text=True)[:3000])
        url = result.headers["Location"]
    result = post_form(client, "/q/check", {})
    assert result.headers["Location"].endswith("/q/done")
    return seen


def test_client_completes_both_waves_and_the_report_pairs_their_scores(
    app, client, runner, smtp, session_factory, settings, mailer, clock, tmp_path
):
    completed = clock().date()
    cohort = tmp_path / "participants.csv"
    cohort.write_text(participants_csv(
        person("C-001", completed, email="client1@example.org", scores=(4, 5, 9)),
        person("C-002", completed, scores=(6, 6, 6)),
    ))
    result = runner.invoke(args=["import-cohort", "--participants", str(cohort)])
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output

    report = dispatch(session_factory, clock(), settings, mailer)
    assert report.issued == 2  # both wave-one questionnaires, due on completion
    assert report.sent == 1  # only C-001 has an email address
    [email] = smtp.to("client1@example.org")
    token = token_from(email)

    # The client without email is on the telephone list, with a working link.
    links = runner.invoke(args=["links", "--wave", "wave1"])
    assert links.output.splitlines()[0] == "participant_ref,url"
    assert [line.split(",")[0] for line in links.output.splitlines()[1:]] == ["C-001", "C-002"]

    pages = answer_everything(client, token, WAVE1_ANSWERS)
    assert "read_plan" in pages and "your_plan" not in pages  # routed past the plan page

    # The link is single-use now.
    again = client.get(f"/r/{token}", follow_redirects=True)
    assert "already answered" in again.get_data(as_text=True)

    # Nothing more before day 42; then wave 2, exactly once however often it runs.
    clock.advance(days=41)
    assert dispatch(session_factory, clock(), settings, mailer).issued == 0
    clock.advance(days=1)
    assert dispatch(session_factory, clock(), settings, mailer).issued == 2
    assert dispatch(session_factory, clock(), settings, mailer).issued == 0
    wave2 = [m for m in smtp.to("client1@example.org") if m is not email]
    assert len(wave2) == 1
    answer_everything(client, token_from(wave2[0]), WAVE2_ANSWERS)

    out = runner.invoke(args=["report", "paired", "--follow-up", "wave2", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["responses"] == 1 and data["linked"] == 1
    work = data["measures"]["workability"]
    assert (work["n"], work["improved"], work["same"], work["deteriorated"]) == (1, 1, 0, 0)
    assert work["mean_change"] == 3.0  # 7 - 4
    assert data["measures"]["importance"]["deteriorated"] == 1  # 8 - 9
    assert any("indicative" in c.lower() for c in work["caveats"])


def test_follow_ups_after_the_study_end_date_are_not_issued(
    app, runner, session_factory, settings, mailer, clock, tmp_path
):
    from sqlalchemy import select

    from surveys.models import Invitation, Study

    with session_factory() as s:
        from surveys.studies import create_study

        create_study(s, "short", "Short study", end_date=date(2026, 3, 31))
        s.commit()
    cohort = tmp_path / "p.csv"
    cohort.write_text(participants_csv(person("S-1", clock().date())))
    assert runner.invoke(args=["import-cohort", "--participants", str(cohort)]).exit_code == 0
    assert dispatch(session_factory, clock(), settings, mailer).issued == 1
    clock.advance(days=60)
    report = dispatch(session_factory, clock(), settings, mailer)
    assert (report.closed, report.issued, report.out_of_window) == (1, 0, 0)
    with session_factory() as s:
        statuses = sorted(
            (inv.wave.code, inv.status)
            for inv in s.scalars(select(Invitation)).all()
        )
        assert s.scalar(select(Study.slug)) == "short"
    assert statuses == [("wave1", "closed"), ("wave2", "out_of_window")]
