"""Versions: the current one by default, earlier ones when responses used them."""

import pytest

from instruments import (
    InstrumentError,
    InstrumentLibrary,
    InstrumentNotFound,
    load_instrument,
)


def definition(version, extra_question=""):
    return f"""\
name: follow_up
version: "{version}"
audience: client
title: {{en: Follow-up, cy: Dilyniant}}
pages:
  - id: first
    questions:
      - id: workability
        type: scale_0_10
        text: {{en: Score, cy: Sgôr}}
{extra_question}"""


EXTRA = """\
      - id: comments
        type: free_text
        required: false
        text: {en: Comments, cy: Sylwadau}
"""


@pytest.fixture
def library(tmp_path):
    (tmp_path / "follow_up.yaml").write_text(definition("2024.10", EXTRA), encoding="utf-8")
    (tmp_path / "follow_up").mkdir()
    (tmp_path / "follow_up" / "2024.1.yaml").write_text(definition("2024.1"), encoding="utf-8")
    (tmp_path / "follow_up" / "2024.2.yaml").write_text(definition("2024.2"), encoding="utf-8")
    return InstrumentLibrary(tmp_path)


def test_the_current_version_is_the_default(library):
    current = library.load("follow_up")
    assert current.version == "2024.10"
    assert [q.id for q in current.questions()] == ["workability", "comments"]


def test_an_earlier_version_stays_loadable(library):
    older = library.load("follow_up", "2024.1")
    assert older.version == "2024.1"
    assert [q.id for q in older.questions()] == ["workability"]


def test_asking_for_the_current_version_by_number_gives_the_current_one(library):
    assert library.load("follow_up", "2024.10") is library.load("follow_up")


def test_versions_are_listed_oldest_first_current_last(library):
    assert library.versions("follow_up") == ["2024.1", "2024.2", "2024.10"]


def test_names_list_only_current_files(library):
    assert library.names() == ["follow_up"]


def test_an_unknown_version_is_not_found(library):
    with pytest.raises(InstrumentNotFound, match="no version '2023.9'.*2024.1, 2024.2, 2024.10"):
        library.load("follow_up", "2023.9")


@pytest.mark.parametrize("name", ["nothing", "../follow_up", "Follow_Up", "", "a/b"])
def test_an_unknown_or_unsafe_name_is_not_found(library, name):
    with pytest.raises(InstrumentNotFound):
        library.load(name)


@pytest.mark.parametrize("version", ["../../etc/passwd", "../follow_up", "", ".hidden"])
def test_an_unsafe_version_is_not_found(library, version):
    with pytest.raises(InstrumentNotFound):
        library.load("follow_up", version)


def test_not_found_is_also_a_lookup_error(library):
    with pytest.raises(LookupError):
        library.load("nothing")


def test_an_earlier_file_must_hold_the_version_it_is_named_after(library, tmp_path):
    (tmp_path / "follow_up" / "2023.1.yaml").write_text(definition("2024.1"), encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"follow_up/2023.1.yaml: the file holds follow_up"):
        library.load("follow_up", "2023.1")


def test_the_current_file_must_be_named_after_its_instrument(tmp_path):
    (tmp_path / "other.yaml").write_text(definition("1"), encoding="utf-8")
    with pytest.raises(InstrumentError, match="other.yaml: name is 'follow_up'"):
        InstrumentLibrary(tmp_path).load("other")


def test_the_current_version_cannot_also_be_an_earlier_file(library, tmp_path):
    (tmp_path / "follow_up" / "2024.10.yaml").write_text(definition("2024.10"), encoding="utf-8")
    with pytest.raises(InstrumentError, match="needs its own version number"):
        library.versions("follow_up")


def test_errors_in_an_earlier_version_name_its_file(library, tmp_path):
    (tmp_path / "follow_up" / "2024.3.yaml").write_text(
        definition("2024.3").replace("cy: Sgôr", "cy: ''"), encoding="utf-8"
    )
    with pytest.raises(InstrumentError, match=r"follow_up/2024.3.yaml: question 'workability'"):
        library.load("follow_up", "2024.3")


def test_shipped_instruments_can_be_asked_for_by_their_current_version():
    current = load_instrument("wave2")
    assert load_instrument("wave2", current.version) is current
    with pytest.raises(InstrumentNotFound):
        load_instrument("wave2", "1999.1")
