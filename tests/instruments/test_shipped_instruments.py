"""The instruments that ship with the service: complete, bilingual, and keeping the
question ids and choice values other code relies on."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import instruments
from instruments import (
    available_instruments,
    instrument_versions,
    load_instrument,
    text,
)
from instruments.loader import DEFINITIONS_DIR, SCHEMA_PATH

SHIPPED = available_instruments()

WAVE1 = {
    "satisfaction": (
        "single_choice",
        [
            "extremely_satisfied",
            "satisfied",
            "neither",
            "dissatisfied",
            "extremely_dissatisfied",
        ],
    ),
    "channel_appropriate": ("agreement_5", None),
    "number_appropriate": ("agreement_5", None),
    "length_appropriate": ("agreement_5", None),
    "honest_open": ("agreement_5", None),
    "trusted_ehp": ("agreement_5", None),
    "understood_circumstances": ("agreement_5", None),
    "open_up_vs_work_coach": ("single_choice", ["more_able", "no_difference", "less_able"]),
    "identified_obstacles": ("agreement_5", None),
    "identified_solutions": ("agreement_5", None),
    "read_plan": ("yes_no", ["yes", "no"]),
    "plan_tailored": ("agreement_5", None),
    "plan_accurate": ("agreement_5", None),
    "plan_actionable": ("agreement_5", None),
    "plan_will_act": ("agreement_5", None),
    "right_work_health": ("agreement_5", None),
    "outlook_change": ("change_3", ["improved", "no_difference", "deteriorated"]),
    "confidence_change": ("change_3", ["improved", "no_difference", "deteriorated"]),
    "importance_change": ("change_3", ["improved", "no_difference", "deteriorated"]),
    "support_change": ("change_3", ["improved", "no_difference", "deteriorated"]),
    "comments": ("free_text", None),
}

WAVE2 = {
    "workability": ("scale_0_10", None),
    "confidence": ("scale_0_10", None),
    "importance": ("scale_0_10", None),
    "steps_taken": ("single_choice", ["all", "some", "none"]),
    "steps_helped": ("single_choice", ["yes", "unsure", "no"]),
    "steps_reasons": ("multiple_choice", ["health", "other_issues", "no_places", "other"]),
    "steps_reasons_other": ("free_text", None),
    "more_steps_planned": ("single_choice", ["all", "some", "none"]),
    "seen_work_coach": ("yes_no", ["yes", "no"]),
    "discussed_plan": ("yes_no", ["yes", "no"]),
    "work_coach_relationship": ("change_3", ["improved", "no_difference", "deteriorated"]),
    "comments": ("free_text", None),
}

AGREEMENT = ["strongly_agree", "agree", "neither", "disagree", "strongly_disagree"]

# Published wording of the scores recorded at the end of the intervention
# (DWP research report 113, section 3.3.2-3.3.3): wave 2 repeats it verbatim.
SCORE_WORDING = {
    "workability": (
        "Assume that your ability to work has, at its best, a value of 10 points. "
        "How many points would you give your work ability?"
    ),
    "confidence": (
        "On a scale of 0 to 10 where 0 is not at all confident and 10 is very confident, "
        "how confident do you feel about getting into work now?"
    ),
    "importance": (
        "On a scale of 0 to 10 where 0 is not at all important and 10 is very important, "
        "how important is it for you to get into work now?"
    ),
}

VERBATIM_STATEMENTS = {
    "honest_open": "I was able to be honest and open with the EHP about my personal circumstances",
    "trusted_ehp": "I trusted the EHP",
    "understood_circumstances": "The EHP understood my personal circumstances",
    "plan_tailored": "My Workability Action Plan is tailored to me",
    "plan_accurate": (
        "My Workability Action Plan accurately records the obstacles and solutions "
        "identified during appointments with my EHP"
    ),
    "plan_actionable": (
        "The solutions in my Workability Action Plan are clear, realistic and actionable"
    ),
    "plan_will_act": "I plan to take forward the actions set out in my Workability Action Plan",
    "right_work_health": "The right work can be beneficial to my health",
}


def all_texts(instrument):
    """(where, text) for every human text in an instrument."""
    yield "title", instrument.title
    if instrument.intro:
        yield "intro", instrument.intro
    for page in instrument.pages:
        if page.title:
            yield f"page {page.id} title", page.title
        for question in page.questions:
            yield f"{question.id} text", question.text
            if question.hint:
                yield f"{question.id} hint", question.hint
            for choice in question.choices:
                yield f"{question.id} choice {choice.value}", choice.label
            for score, label in question.scale_labels.items():
                yield f"{question.id} scale label {score}", label


def test_the_service_ships_both_client_waves_and_a_staff_survey():
    assert {"wave1", "wave2", "ehp_staff"} <= set(SHIPPED)
    assert load_instrument("wave1").audience == "client"
    assert load_instrument("wave2").audience == "client"
    assert load_instrument("ehp_staff").audience == "staff"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_instrument_and_version_loads(name):
    for version in instrument_versions(name):
        instrument = load_instrument(name, version)
        assert instrument.name == name
        assert instrument.version == version
        assert instrument.questions()


@pytest.mark.parametrize("name", SHIPPED)
def test_every_instrument_text_has_its_welsh_version(name):
    instrument = load_instrument(name)
    for where, node_text in all_texts(instrument):
        assert set(node_text) == {"en", "cy"}, where
        assert node_text["en"].strip(), where
        assert node_text["cy"].strip(), where


@pytest.mark.parametrize("name", SHIPPED)
def test_question_texts_are_translated_not_copied(name):
    instrument = load_instrument(name)
    for question in instrument.questions():
        assert question.text["cy"] != question.text["en"], question.id
        if question.hint:
            assert question.hint["cy"] != question.hint["en"], question.id
    for page in instrument.pages:
        if page.title:
            assert page.title["cy"] != page.title["en"], page.id


@pytest.mark.parametrize(("name", "expected"), [("wave1", WAVE1), ("wave2", WAVE2)])
def test_question_ids_types_and_values_match_the_contract(name, expected):
    instrument = load_instrument(name)
    assert [question.id for question in instrument.questions()] == list(expected)
    for question_id, (kind, values) in expected.items():
        question = instrument.question(question_id)
        assert question.type == kind, question_id
        if kind == "agreement_5":
            values = AGREEMENT
        if values is not None:
            assert question.choice_values() == values, question_id


def test_the_three_scores_use_the_published_wording_and_never_mention_the_earlier_score():
    wave2 = load_instrument("wave2")
    for question_id, wording in SCORE_WORDING.items():
        question = wave2.question(question_id)
        assert question.text["en"] == wording
        assert question.hint is None
        assert set(question.scale_labels) == {0, 10}
    for _where, node_text in all_texts(wave2):
        for words in (node_text["en"].lower(), node_text["cy"].lower()):
            assert "last time" not in words
            assert "previous" not in words
            assert "earlier score" not in words
            assert "blaenorol" not in words


def test_statements_from_the_published_tables_are_used_word_for_word():
    wave1 = load_instrument("wave1")
    for question_id, wording in VERBATIM_STATEMENTS.items():
        assert wave1.question(question_id).text["en"] == wording


def test_comments_are_optional_and_longer_than_the_default():
    for name in ("wave1", "wave2"):
        comments = load_instrument(name).question("comments")
        assert comments.required is False
    assert load_instrument("wave1").question("comments").max_length == 1000
    assert load_instrument("wave2").question("steps_reasons_other").required is False
    assert load_instrument("wave2").question("steps_reasons_other").max_length == 500


def test_change_questions_can_reword_the_built_in_labels():
    outlook = load_instrument("wave1").question("outlook_change")
    labels = [text(choice.label, "en") for choice in outlook.choices]
    assert labels == ["More positive", "No difference", "Less positive"]
    assert text(outlook.choices[0].label, "cy") == "Yn fwy cadarnhaol"


def test_agreement_labels_use_the_standard_welsh_terms():
    question = load_instrument("wave1").question("trusted_ehp")
    assert [choice.label["cy"] for choice in question.choices] == [
        "Cytuno'n gryf",
        "Cytuno",
        "Ddim yn cytuno nac yn anghytuno",
        "Anghytuno",
        "Anghytuno'n gryf",
    ]


@pytest.mark.parametrize("name", SHIPPED)
def test_scales_and_routed_questions_have_a_page_of_their_own(name):
    instrument = load_instrument(name)
    for page in instrument.pages:
        for question in page.questions:
            if question.type == "scale_0_10" or question.show_if is not None:
                assert len(page.questions) == 1, f"{question.id} shares page {page.id}"


@pytest.mark.parametrize("name", SHIPPED)
def test_page_ids_fit_the_current_page_column(name):
    for page in load_instrument(name).pages:
        assert len(page.id) <= 64


def test_the_plan_page_is_routed_on_having_read_the_plan():
    page = load_instrument("wave1").page("your_plan")
    assert [question.id for question in page.questions] == [
        "plan_tailored",
        "plan_accurate",
        "plan_actionable",
        "plan_will_act",
    ]
    assert page.show_if is not None


def test_the_staff_survey_asks_the_practitioner_statements():
    staff = load_instrument("ehp_staff")
    assert all(question.type == "agreement_5" for question in staff.questions())
    english = [question.text["en"] for question in staff.questions()]
    assert "I complete the Workability Action Plan with confidence" in english
    assert "I am able to support customers to identify their goals and aspirations" in english


def test_the_schema_is_valid_draft_2020_12():
    document = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_definition_files_are_where_package_data_expects_them():
    assert Path(instruments.__file__).parent / "definitions" == DEFINITIONS_DIR
    for name in SHIPPED:
        assert (DEFINITIONS_DIR / f"{name}.yaml").is_file()


def test_the_package_imports_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, instruments; instruments.load_instrument('wave2'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_load_instrument_returns_the_cached_instrument():
    assert load_instrument("wave1") is load_instrument("wave1")
