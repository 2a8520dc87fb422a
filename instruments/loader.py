"""Loading instruments: files, the JSON Schema, versions and the cache.

Layout of a definitions folder:

    definitions/<name>.yaml              the current version of <name>
    definitions/<name>/<version>.yaml    earlier versions, kept so that
                                         responses recorded with them can
                                         still be read and reported
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from instruments import schema_errors
from instruments.builder import Builder
from instruments.errors import InstrumentError, InstrumentNotFound
from instruments.model import LANGUAGES, Choice, Instrument
from instruments.yaml_source import describe_yaml_error, parse_yaml

PACKAGE_DIR = Path(__file__).parent
DEFINITIONS_DIR = PACKAGE_DIR / "definitions"
SCHEMA_PATH = PACKAGE_DIR / "schema.json"
ANSWER_TYPES_PATH = PACKAGE_DIR / "answer_types.yaml"

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}")


@cache
def schema() -> dict:
    """The JSON Schema of a definition file."""
    document = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(document)
    return document


@cache
def _validator(definition: str, languages: tuple[str, ...] = LANGUAGES) -> Draft202012Validator:
    """The schema, with every human text needing `languages` (shipped instruments: English
    and Welsh; an instrument kept with a study: that study's languages)."""
    root = copy.deepcopy(schema())
    root["$defs"]["text"]["required"] = list(languages)
    if definition == "instrument":
        return Draft202012Validator(root)
    return Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": root["$defs"]})


def _validate(document: object, label: str, definition: str = "instrument",
              languages: tuple[str, ...] = LANGUAGES) -> None:
    if document is None:
        raise InstrumentError(f"{label}: the file is empty")
    if not isinstance(document, dict):
        raise InstrumentError(
            f"{label}: the file must be a set of fields (name, version, audience, title, pages)"
        )
    errors = sorted(
        _validator(definition, tuple(languages)).iter_errors(document),
        key=lambda error: schema_errors.sort_key(document, error),
    )
    problems: list[str] = []
    for error in errors:
        where, what = schema_errors.describe(document, error)
        line = f"{label}: {where}: {what}" if where else f"{label}: {what}"
        if line not in problems:
            problems.append(line)
    if problems:
        raise InstrumentError(problems)


def _read(path: Path, label: str) -> object:
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstrumentNotFound(f"{label}: no such file") from None
    except UnicodeDecodeError:
        raise InstrumentError(f"{label}: the file is not UTF-8 text") from None
    try:
        return parse_yaml(source)
    except yaml.YAMLError as error:
        raise InstrumentError(f"{label}: {describe_yaml_error(error)}") from None


@cache
def built_in_choices() -> dict[str, tuple[Choice, ...]]:
    """The choices of agreement_5, change_3 and yes_no, from answer_types.yaml."""
    label = ANSWER_TYPES_PATH.name
    document = _read(ANSWER_TYPES_PATH, label)
    _validate(document, label, definition="built_in_choices")
    return {
        kind: tuple(Choice(c["value"], dict(c["label"])) for c in choices)
        for kind, choices in document.items()
    }


def load_file(path: str | Path, label: str | None = None) -> Instrument:
    """Load and check one definition file (not cached).

    Raises InstrumentError, whose message names the file, the page or question
    and the problem.
    """
    path = Path(path)
    label = label or path.name
    document = _read(path, label)
    _validate(document, label)
    builder = Builder(label, built_in_choices())
    instrument = builder.build(document)
    if builder.problems:
        raise InstrumentError(builder.problems)
    return instrument


def load_text(source: str, label: str, languages: Iterable[str] = LANGUAGES) -> Instrument:
    """Load and check a definition given as text (an uploaded file, or one kept in a
    database); every human text needs each of `languages` (a study's client languages)."""
    try:
        document = parse_yaml(source)
    except yaml.YAMLError as error:
        raise InstrumentError(f"{label}: {describe_yaml_error(error)}") from None
    _validate(document, label, languages=tuple(languages))
    builder = Builder(label, built_in_choices())
    instrument = builder.build(document)
    if builder.problems:
        raise InstrumentError(builder.problems)
    return instrument


def _version_key(version: str) -> tuple:
    """Sort "2024.2" before "2024.10"."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"[._-]", version)
    )


class InstrumentLibrary:
    """The instruments in one definitions folder, loaded once each."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._cache: dict[tuple[str, str | None], Instrument] = {}

    def has(self, name: str) -> bool:
        """Whether the folder holds an instrument of that name (one stat, no listing: asked
        on every questionnaire page)."""
        if (name, None) in self._cache:
            return True
        return isinstance(name, str) and bool(_NAME.fullmatch(name)) \
            and (self.root / f"{name}.yaml").is_file()

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.yaml") if _NAME.fullmatch(p.stem))

    def versions(self, name: str) -> list[str]:
        """Every loadable version of an instrument, oldest first, the current one last."""
        current = self.load(name)
        older_dir = self.root / name
        older = [p.stem for p in older_dir.glob("*.yaml")] if older_dir.is_dir() else []
        if current.version in older:
            raise InstrumentError(
                f"{name}/{current.version}.yaml: {current.version!r} is the current version "
                f"in {name}.yaml; an earlier version needs its own version number"
            )
        return [*sorted(older, key=_version_key), current.version]

    def load(self, name: str, version: str | None = None) -> Instrument:
        """The current version of an instrument, or the version asked for."""
        key = (name, version)
        if key not in self._cache:
            self._cache[key] = self._load(name, version)
        return self._cache[key]

    def _load(self, name: str, version: str | None) -> Instrument:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InstrumentNotFound(f"{name!r} is not an instrument name")
        path = self.root / f"{name}.yaml"
        if not path.is_file():
            available = ", ".join(self.names()) or "none"
            raise InstrumentNotFound(f"no instrument called {name!r} (available: {available})")
        current = self._cache.get((name, None)) or load_file(path, f"{name}.yaml")
        if current.name != name:
            raise InstrumentError(
                f"{name}.yaml: name is {current.name!r} but the file is called {name}.yaml"
            )
        self._cache[(name, None)] = current
        if version is None or version == current.version:
            return current
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            raise InstrumentNotFound(f"{version!r} is not a version number")
        label = f"{name}/{version}.yaml"
        older_path = self.root / name / f"{version}.yaml"
        if not older_path.is_file():
            raise InstrumentNotFound(
                f"{name} has no version {version!r} (available: {', '.join(self.versions(name))})"
            )
        older = load_file(older_path, label)
        if older.name != name or older.version != version:
            raise InstrumentError(
                f"{label}: the file holds {older.name} version {older.version!r}; "
                f"it should hold {name} version {version!r}"
            )
        return older


DEFAULT_LIBRARY = InstrumentLibrary(DEFINITIONS_DIR)
DIR_VARIABLE = "SURVEYS_INSTRUMENTS_DIR"
_other_libraries: dict[Path, InstrumentLibrary] = {}


def default_library() -> InstrumentLibrary:
    """The shipped definitions, or the folder named by SURVEYS_INSTRUMENTS_DIR.

    The variable lets a deployment keep its own definitions folder (same layout)
    without touching the package; it is read on every call, and each folder is
    loaded once.
    """
    folder = os.environ.get(DIR_VARIABLE)
    if not folder:
        return DEFAULT_LIBRARY
    root = Path(folder).resolve()
    if root not in _other_libraries:
        if not root.is_dir():
            raise InstrumentNotFound(f"{DIR_VARIABLE}={folder}: no such folder")
        _other_libraries[root] = InstrumentLibrary(root)
    return _other_libraries[root]


def load_instrument(name: str, version: str | None = None) -> Instrument:
    """An instrument: the current version, or an earlier one by its version."""
    return default_library().load(name, version)


def available_instruments() -> list[str]:
    """Names of the instruments (shipped, or in SURVEYS_INSTRUMENTS_DIR)."""
    return default_library().names()


def instrument_versions(name: str) -> list[str]:
    """Every loadable version of an instrument, oldest first, current last."""
    return default_library().versions(name)
