"""Broken definition files are refused with a message naming the file, the
question (or page) and the problem."""

import textwrap
from pathlib import Path

import pytest

import instruments
from instruments import InstrumentError, load_file, text
from instruments.loader import built_in_choices

HEADER = """\
name: sample
version: "2024.1"
audience: client
title: {en: Sample, cy: Sampl}
pages:
"""

GOOD_PAGES = """\
  - id: first
    questions:
      - id: read_plan
        type: yes_no
        text: {en: "Have you read it?", cy: "Ydych chi wedi'i ddarllen?"}
  - id: second
    show_if: {question: read_plan, equals: yes}
    questions:
      - id: steps_taken
        type: single_choice
        text: {en: "Steps?", cy: "Camau?"}
        choices:
          - {value: all, label: {en: All, cy: Pob un}}
          - {value: none, label: {en: None, cy: Dim un}}
"""


def write(tmp_path, pages, name="sample.yaml", header=HEADER):
    path = tmp_path / name
    path.write_text(header + textwrap.dedent(pages), encoding="utf-8")
    return path


def error_for(tmp_path, pages, **kwargs):
    with pytest.raises(InstrumentError) as caught:
        load_file(write(tmp_path, pages, **kwargs))
    return str(caught.value)


def test_a_good_file_loads(tmp_path):
    instrument = load_file(write(tmp_path, GOOD_PAGES))
    assert instrument.name == "sample"
    assert [q.id for q in instrument.questions()] == ["read_plan", "steps_taken"]
    assert instrument.page("second").show_if.value == "yes"
    assert instrument.question("steps_taken").required is True


def test_yes_and_no_stay_text_without_quotes(tmp_path):
    instrument = load_file(write(tmp_path, GOOD_PAGES))
    assert instrument.question("read_plan").choice_values() == ["yes", "no"]
    assert instrument.page("second").show_if.value == "yes"


def test_an_unknown_answer_type_is_named(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - id: score
                type: slider
                text: {en: Score, cy: Sgôr}
        """,
    )
    assert message.startswith("sample.yaml: question 'score': unknown answer type 'slider'")


def test_a_duplicate_question_id_is_named(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - id: score
                type: scale_0_10
                text: {en: Score, cy: Sgôr}
          - id: second
            questions:
              - id: score
                type: scale_0_10
                text: {en: Score again, cy: Sgôr eto}
        """,
    )
    assert "sample.yaml: question 'score': the id is used by more than one question" in message


def test_a_duplicate_page_id_is_named(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - {id: a, type: yes_no, text: {en: A, cy: B}}
          - id: first
            questions:
              - {id: b, type: yes_no, text: {en: A, cy: B}}
        """,
    )
    assert "sample.yaml: page 'first': the id is used by more than one page" in message


def test_show_if_to_an_unknown_question_is_named(tmp_path):
    pages = GOOD_PAGES + textwrap.indent(
        textwrap.dedent(
            """\
            - id: third
              questions:
                - id: steps_helped
                  type: yes_no
                  text: {en: "Helped?", cy: "Wedi helpu?"}
                  show_if: {question: step_taken, in: [all]}
            """
        ),
        "  ",
    )
    message = error_for(tmp_path, pages)
    assert message == (
        "sample.yaml: question 'steps_helped': show_if refers to unknown question 'step_taken'"
    )


def test_show_if_to_a_later_question_is_named(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            show_if: {question: later, equals: "yes"}
            questions:
              - {id: early, type: yes_no, text: {en: A, cy: B}}
          - id: second
            questions:
              - {id: later, type: yes_no, text: {en: A, cy: B}}
        """,
    )
    assert "sample.yaml: page 'first': show_if refers to question 'later'" in message
    assert "not on an earlier page" in message


def test_show_if_to_a_question_on_the_same_page_is_refused(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - {id: early, type: yes_no, text: {en: A, cy: B}}
              - id: follow_up
                type: yes_no
                text: {en: A, cy: B}
                show_if: {question: early, equals: "yes"}
        """,
    )
    assert "question 'follow_up': show_if refers to question 'early'" in message


def test_a_missing_welsh_text_is_named(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - id: score
                type: scale_0_10
                text: {en: Score}
        """,
    )
    assert message == "sample.yaml: question 'score': text has no Welsh (cy) version"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("hint: {en: Hint, cy: ''}", "question 'score': hint (cy) is blank"),
        ("hint: {en: Hint}", "question 'score': hint has no Welsh (cy) version"),
        ("hint: Just English", "question 'score': hint must give both languages"),
        ("hint: {en: Hint, cy: Awgrym, fr: Indice}", "hint has unknown language 'fr'"),
        (
            "scale_labels: {low: {cy: Isel}}",
            "question 'score': scale_labels.low has no English (en) version",
        ),
    ],
)
def test_every_kind_of_text_needs_both_languages(tmp_path, snippet, expected):
    message = error_for(
        tmp_path,
        f"""\
          - id: first
            questions:
              - id: score
                type: scale_0_10
                text: {{en: Score, cy: Sgôr}}
                {snippet}
        """,
    )
    assert expected in message


def test_a_missing_welsh_choice_label_is_named(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - id: steps
                type: single_choice
                text: {en: Steps, cy: Camau}
                choices:
                  - {value: all, label: {en: All}}
                  - {value: none, label: {en: None, cy: Dim}}
        """,
    )
    assert message == "sample.yaml: question 'steps', choice 'all': label has no Welsh (cy) version"


def test_a_missing_welsh_instrument_title_is_named(tmp_path):
    header = HEADER.replace("{en: Sample, cy: Sampl}", "{en: Sample}")
    message = error_for(tmp_path, GOOD_PAGES, header=header)
    assert message == "sample.yaml: title has no Welsh (cy) version"


@pytest.mark.parametrize("kind", ["single_choice", "multiple_choice"])
def test_a_choice_type_without_choices_is_named(tmp_path, kind):
    message = error_for(
        tmp_path,
        f"""\
          - id: first
            questions:
              - id: reasons
                type: {kind}
                text: {{en: Reasons, cy: Rhesymau}}
        """,
    )
    assert message == f"sample.yaml: question 'reasons': a {kind} question needs choices"


def test_choices_on_a_built_in_type_are_refused(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - id: agreed
                type: agreement_5
                text: {en: Agreed, cy: Cytuno}
                choices:
                  - {value: a, label: {en: A, cy: A}}
                  - {value: b, label: {en: B, cy: B}}
        """,
    )
    assert "question 'agreed': choices is only for single_choice and multiple_choice" in message
    assert "use labels" in message


def test_labels_for_values_a_built_in_type_does_not_have_are_refused(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - id: changed
                type: change_3
                text: {en: Changed, cy: Newid}
                labels: {better: {en: Better, cy: Gwell}}
        """,
    )
    assert "question 'changed': labels gives a label for 'better'" in message


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("{question: read_plan, includes: 'yes'}", "use 'equals' or 'in'"),
        ("{question: read_plan, equals: maybe}", "show_if value 'maybe' is not a choice"),
        ("{question: read_plan}", "exactly one of 'equals', 'in' or 'includes'"),
        ("{question: read_plan, equals: 'yes', in: ['no']}", "exactly one of"),
        (
            "{all: [{question: read_plan, equals: 'yes'}], any: [{question: read_plan, in: [no]}]}",
            "on its own",
        ),
        ("{all: []}", "show_if.all must list at least 1 item"),
        ("{question: read_plan, equals: 'yes', colour: red}", "unknown field 'colour'"),
    ],
)
def test_malformed_show_if_is_explained(tmp_path, condition, expected):
    message = error_for(
        tmp_path,
        f"""\
          - id: first
            questions:
              - {{id: read_plan, type: yes_no, text: {{en: A, cy: B}}}}
          - id: second
            questions:
              - id: routed
                type: yes_no
                text: {{en: A, cy: B}}
                show_if: {condition}
        """,
    )
    assert "question 'routed'" in message
    assert expected in message


def test_show_if_on_free_text_and_scales_is_checked(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - {id: notes, type: free_text, text: {en: A, cy: B}}
              - {id: score, type: scale_0_10, text: {en: A, cy: B}}
              - id: reasons
                type: multiple_choice
                text: {en: A, cy: B}
                choices:
                  - {value: a, label: {en: A, cy: A}}
                  - {value: b, label: {en: B, cy: B}}
          - id: second
            questions:
              - id: on_notes
                type: yes_no
                text: {en: A, cy: B}
                show_if: {question: notes, equals: x}
              - id: on_score
                type: yes_no
                text: {en: A, cy: B}
                show_if: {question: score, in: [9, 11]}
              - id: on_reasons
                type: yes_no
                text: {en: A, cy: B}
                show_if: {question: reasons, equals: a}
        """,
    )
    assert "question 'on_notes': show_if cannot depend on the free text question 'notes'" in message
    assert "question 'on_score': show_if value 11 for question 'score'" in message
    assert "question 'on_reasons': show_if uses 'equals' with the multiple_choice" in message


def test_invalid_yaml_is_reported_with_its_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\npages:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as caught:
        load_file(path)
    assert str(caught.value).startswith("broken.yaml: not valid YAML: line ")


def test_a_key_written_twice_is_reported(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - id: score
                type: scale_0_10
                text: {en: Score, cy: Sgôr}
                text: {en: Score again, cy: Sgôr eto}
        """,
    )
    assert "sample.yaml: not valid YAML: line 11" in message
    assert "the key 'text' is written twice" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "sample.yaml: the file is empty"),
        ("- just\n- a list\n", "sample.yaml: the file must be a set of fields"),
    ],
)
def test_a_file_that_is_not_a_definition_is_refused(tmp_path, content, expected):
    path = tmp_path / "sample.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InstrumentError, match=expected):
        load_file(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "sample.yaml"
    path.write_bytes((HEADER + GOOD_PAGES).encode("utf-16"))
    with pytest.raises(InstrumentError, match="not UTF-8"):
        load_file(path)


def test_an_unquoted_version_number_is_explained(tmp_path):
    header = HEADER.replace('version: "2024.1"', "version: 2024.1")
    message = error_for(tmp_path, GOOD_PAGES, header=header)
    assert message == 'sample.yaml: version must be written in quotes, e.g. version: "2024.1"'


def test_ids_must_be_snake_case(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - {id: Read-Plan, type: yes_no, text: {en: A, cy: B}}
        """,
    )
    assert "id 'Read-Plan' must be snake_case" in message


def test_fields_for_another_answer_type_are_refused(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - id: read_plan
                type: yes_no
                text: {en: A, cy: B}
                max_length: 20
                scale_labels: {low: {en: Low, cy: Isel}}
        """,
    )
    assert "question 'read_plan': max_length is only for free_text questions" in message
    assert "question 'read_plan': scale_labels is only for scale_0_10 questions" in message


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(InstrumentError) as caught:
        load_file(
            write(
                tmp_path,
                """\
                  - id: first
                    questions:
                      - {id: a, type: slider, text: {en: A}}
                """,
            )
        )
    assert len(caught.value.problems) == 2


def test_built_in_answer_types_are_bilingual():
    for kind, choices in built_in_choices().items():
        for choice in choices:
            assert choice.label["en"] and choice.label["cy"], (kind, choice.value)
    assert [c.value for c in built_in_choices()["yes_no"]] == ["yes", "no"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("cy", "Sampl"), ("cy-GB", "Sampl"), ("cy_GB", "Sampl"), ("en", "Sample"), ("fr", "Sample")],
)
def test_text_picks_the_language_and_falls_back_to_english(lang, expected):
    assert text({"en": "Sample", "cy": "Sampl"}, lang) == expected


def test_text_falls_back_to_english_when_welsh_is_missing_or_empty():
    assert text({"en": "Sample"}, "cy") == "Sample"
    assert text({"en": "Sample", "cy": ""}, "cy") == "Sample"
    assert text(None, "cy") == ""


def test_a_question_mark_inside_braces_gets_advice(tmp_path):
    message = error_for(
        tmp_path,
        """\
          - id: first
            questions:
              - {id: a, type: yes_no, text: {en: Ready?, cy: Barod?}}
        """,
    )
    assert "must be in quotes" in message


def test_the_readme_example_loads(tmp_path):
    readme = (Path(instruments.__file__).parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "follow_up.yaml"
    path.write_text(example, encoding="utf-8")
    instrument = load_file(path)
    assert [q.id for q in instrument.questions()] == ["steps_taken", "steps_helped"]
