"""Messages in the study's and the wave's own words, readable on a phone, each with a way
to stop (issue 15): rendered and read back as a client's mail program would."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest

from scheduler.jobs import dispatch
from surveys.invitations.emails import build_email
from tests.helpers import make_study
from tests.test_study_definitions import INSTRUMENT, STUDY

ORGANISATION = "Leeds City Council Employment Team"
CONTACT = "the research team on 0113 496 0000 or research@example.org"
STUDY_WORDS = STUDY.replace("disclosure_threshold: 5\n", f"""disclosure_threshold: 5
messages:
  organisation: {{en: {ORGANISATION}}}
  contact: {{en: {CONTACT}}}
""")
WAVE_WORDS = """    close_days: 28
    messages:
      subject: {en: Your Better Work questionnaire}
      intro: {en: You finished the Better Work Service recently. Tell us how work is going.}
      minutes: 10
  - code: w2"""
WORDS = STUDY_WORDS.replace("    close_days: 28\n  - code: w2", WAVE_WORDS)


@pytest.fixture
def cli(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "followup.yaml").write_text(INSTRUMENT)

    def run(*args: str, check: bool = True):
        done = runner.invoke(args=list(args))
        assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
        assert "Traceback" not in done.stderr
        if check:
            assert done.exit_code == 0, done.stderr
        return done

    run("db", "upgrade")
    return run


class Page(HTMLParser):
    """What a mail program reads of an HTML email."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]

    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def parts(message) -> tuple[str, str, Page]:
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return " ".join(message["Subject"].split()), " ".join(plain.split()), Page(html)


def load_cohort(cli, tmp_path, today: date) -> None:
    cohort = tmp_path / "participants.csv"
    cohort.write_text("participant_ref,site,completed_on,language,email,phone,in_work_end,"
                      f"workability_end,worry_end\nBW-1,Leeds,{today},en,bw1@example.org,,no,3,8\n")
    cli("import-cohort", "--study", "better-work", "--participants", str(cohort))


def test_each_message_says_what_the_survey_is_who_runs_it_how_long_and_how_to_stop(
    cli, tmp_path, session_factory, settings, mailer, smtp, clock
):
    words = tmp_path / "words.yaml"
    words.write_text(WORDS)
    cli("study", "apply", str(words))
    load_cohort(cli, tmp_path, clock().date())
    for days in (0, 7, 23, 30):  # w1, its reminder, (w1 closes), w2 at day 30
        clock.advance(days=days)
        dispatch(session_factory, clock(), settings, mailer)
    first, reminder, follow_up = smtp.to("bw1@example.org")
    for message, subject, closes in (
        (first, "Your Better Work questionnaire", "30 March 2026"),
        (reminder, "Reminder: Your Better Work questionnaire", "30 March 2026"),
        (follow_up, "Follow-up questionnaire: how are you getting on after your Better Work "
                    "Service?", "22 April 2026"),
    ):
        shown, plain, page = parts(message)
        assert shown == subject
        [html] = page.find("html")
        assert html["lang"] == "en"
        assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in \
            page.find("meta")
        assert not page.find("img")
        links = [a["href"] for a in page.find("a")]
        assert len(links) == 2 and links[0].startswith("http://surveys.test/r/")
        assert links[1].startswith("http://surveys.test/stop/")
        assert links[0].rsplit("/", 1)[1] == links[1].rsplit("/", 1)[1]
        text = page.words()
        for body in (plain, text):
            assert f"The link works until {closes}." in body
            assert f"This study is run by {ORGANISATION}." in body
            assert f"If you have a question, contact {CONTACT}." in body
            assert "The research team can see your answers with your reference number" in body
            assert "researchers will not know who gave which answers" not in body
        for link in links:
            assert link in plain
        assert "max-width: 580px" in message.get_body(("html",)).get_content()
    assert "It takes about 10 minutes." in parts(first)[1]
    assert "You finished the Better Work Service recently." in parts(first)[1]
    assert "It takes about 5 minutes." in parts(follow_up)[1]  # w2 has no words of its own
    assert "This is a follow-up questionnaire" in parts(follow_up)[1]


def test_messages_are_in_the_clients_language_with_the_service_words_as_default(
    session_factory,
):
    with session_factory() as s:
        study = make_study(s, "words", waves=[{"code": "wave1"}, {"code": "wave2",
                                                                   "offset_days": 42}],
                           messages={"contact": {"en": "Dewi on 029 2000 0000",
                                                 "cy": "Dewi ar 029 2000 0000"}})
        study.languages = ["en", "cy"]
        study.waves[0].messages = {"subject": {"en": "About work", "cy": "Am waith"},
                                   "minutes": 1}
        email = build_email(kind="invitation", to="c@example.org", sender="s@example.org",
                            language="cy", link="http://surveys.test/r/abc",
                            closes_on=date(2026, 3, 30), wave=study.waves[0],
                            stop_link="http://surveys.test/stop/abc")
        subject, plain, page = parts(email)
        assert subject == "Am waith" and "Dewi ar 029 2000 0000" in plain
        assert page.find("html")[0]["lang"] == "cy" and "Dewi ar" in page.words()
        english = build_email(kind="invitation", to="c@example.org", sender="s@example.org",
                              language="en", link="http://surveys.test/r/abc",
                              closes_on=date(2026, 3, 30), wave=study.waves[1],
                              stop_link="http://surveys.test/stop/abc")
        subject, plain, page = parts(english)
        assert subject.startswith("Follow-up questionnaire")
        assert "Dewi on 029 2000 0000" in plain and "This study is run by" not in plain
        assert "http://surveys.test/stop/abc" in plain


def test_a_study_with_messages_round_trips_through_apply_and_show(cli, tmp_path):
    words = tmp_path / "words.yaml"
    words.write_text(WORDS)
    cli("study", "apply", str(words))
    shown = cli("study", "show", "better-work").stdout
    assert f"messages:\n  organisation:\n    en: {ORGANISATION}\n  contact:\n" in shown
    assert "minutes: 10" in shown and "Your Better Work questionnaire" in shown
    again = tmp_path / "again.yaml"
    again.write_text(shown)
    assert cli("study", "apply", str(again)).stdout.splitlines()[1:] == ["- no changes"]
    assert cli("study", "show", "better-work").stdout == shown
    changed = tmp_path / "changed.yaml"
    changed.write_text(WORDS.replace("minutes: 10", "minutes: 15").replace(ORGANISATION, "DWP"))
    out = cli("study", "apply", str(changed)).stdout
    assert "messages: changed" in out and "wave w1: messages changed" in out
    plain = tmp_path / "plain.yaml"  # without them: shown exactly as a study without
    plain.write_text(STUDY)
    assert "messages: removed" in cli("study", "apply", str(plain)).stdout
    assert "messages" not in cli("study", "show", "better-work").stdout


@pytest.mark.parametrize("text, message", [
    (WORDS.replace(f"contact: {{en: {CONTACT}}}", "contact: {en: " + "x" * 301 + "}"),
     "messages.contact.en: must be at most 300 characters (got 301)"),
    (WORDS.replace("minutes: 10", "minutes: 0"),
     "wave w1.messages.minutes: must be a whole number from 1 to 120 (got 0)"),
    (WORDS.replace("  organisation:", "  organization:"),
     "messages: unknown setting 'organization' (did you mean 'organisation'?)"),
    (WORDS.replace("      minutes: 10", "      minutes: 10\n      closing: soon"),
     "wave w1.messages: unknown setting 'closing'"),
    (STUDY.replace("disclosure_threshold: 5\n", "disclosure_threshold: 5\nmessages: DWP\n"),
     "messages: must be a set of settings"),
    (WORDS.replace("languages: [en]", "languages: [en, cy]"),
     "messages.contact: has no Welsh (cy) text"),
    (WORDS.replace("subject: {en: Your Better Work questionnaire}", "subject: {en: ''}"),
     "wave w1.messages.subject.en: must be a text that is not blank"),
])
def test_bad_messages_get_one_line_and_change_nothing(cli, tmp_path, text, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    done = cli("study", "apply", str(bad), check=False)
    assert done.exit_code == 1
    assert message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert cli("study", "show", "better-work", check=False).exit_code == 1

