"""Turning JSON Schema errors into plain English that names the question."""

from __future__ import annotations

import re
from collections.abc import Sequence

from jsonschema import ValidationError

LANGUAGE_NAMES = {"en": "English", "cy": "Welsh"}
_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a set of fields (key: value)",
}
_SNAKE_CASE = "lower-case letters, digits and underscores, starting with a letter"


def describe(document: object, error: ValidationError) -> tuple[str, str]:
    """(where, problem) for one schema error.

    For example ("question 'x'", "text has no Welsh (cy) version").
    """
    path = list(error.absolute_path)
    where, rest = _locate(document, path)
    return where, _problem(error, rest)


def sort_key(document: object, error: ValidationError) -> tuple[int, ...]:
    """Order errors as they appear in the file."""
    key: list[int] = []
    node = document
    for part in error.path:
        if isinstance(node, dict):
            keys = list(node)
            key.append(keys.index(part) if part in keys else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            key.append(part)
            node = node[part]
        else:
            break
    return tuple(key)


def _locate(document: object, path: list) -> tuple[str, list]:
    """Split a path into the page/question/choice it is in and the field left."""
    where = ""
    node = document
    position = 0
    page_name = ""
    for container, noun in (("pages", "page"), ("questions", "question"), ("choices", "choice")):
        if (
            len(path) >= position + 2
            and path[position] == container
            and isinstance(path[position + 1], int)
        ):
            try:
                node = node[container][path[position + 1]]
            except (KeyError, IndexError, TypeError):
                break
            key = "value" if noun == "choice" else "id"
            name = node.get(key) if isinstance(node, dict) else None
            number = path[position + 1] + 1
            label = f"{noun} {name!r}" if isinstance(name, str) else f"{noun} {number}"
            if noun == "page":
                where = page_name = label
            elif noun == "question":
                where = label if isinstance(name, str) else f"{label} on {page_name}"
            else:
                where = f"{where}, {label}"
            position += 2
        else:
            break
    return where, path[position:]


def _field(rest: Sequence) -> str:
    parts: list[str] = []
    for part in rest:
        if isinstance(part, int):
            parts.append(f"[{part + 1}]")
        elif part in LANGUAGE_NAMES:
            parts.append(f" ({part})")
        else:
            parts.append(f".{part}" if parts else str(part))
    return "".join(parts)


def _problem(error: ValidationError, rest: list) -> str:
    field = _field(rest)
    instance = error.instance
    validator = error.validator
    subject = field or "the file"
    if validator == "required":
        missing = [name for name in error.validator_value if name not in instance]
        name = missing[0] if missing else "?"
        if name in LANGUAGE_NAMES:
            return f"{field or 'text'} has no {LANGUAGE_NAMES[name]} ({name}) version"
        return f"{field} is missing {name!r}" if field else f"missing required field {name!r}"
    if validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        extra = [
            key
            for key in instance
            if key not in known and not any(p.search(str(key)) for p in patterns)
        ]
        if known == set(LANGUAGE_NAMES):
            return f"{subject} has unknown language {extra[0]!r} (only en and cy are used)"
        names = ", ".join(repr(key) for key in extra)
        return f"unknown field {names}" + (f" in {field}" if field else "")
    if validator == "type":
        if instance is None:
            return f"{subject} is empty"
        if field == "version" and isinstance(instance, int | float):
            return 'version must be written in quotes, e.g. version: "2024.1"'
        if error.schema.get("required") == ["en", "cy"]:
            return f"{subject} must give both languages, e.g. {{en: ..., cy: ...}}"
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else expected
        words = " or ".join(_TYPE_WORDS.get(name, name) for name in expected)
        return f"{subject} must be {words}"
    if validator == "enum":
        options = ", ".join(str(option) for option in error.validator_value)
        if rest == ["type"]:
            return f"unknown answer type {instance!r} (use one of: {options})"
        return f"{subject} must be one of: {options} (not {instance!r})"
    if validator == "pattern":
        if rest and rest[-1] in LANGUAGE_NAMES:
            return f"{subject} is blank"
        if rest and rest[-1] == "version":
            return f"version {instance!r} may use only letters, digits, '.', '_' and '-'"
        if rest and rest[-1] in ("id", "name", "question"):
            return f"{subject} {instance!r} must be snake_case: {_SNAKE_CASE}"
        return f"{subject} {instance!r} must use lower-case letters, digits and underscores"
    if validator == "minItems":
        count = error.validator_value
        return f"{subject} must list at least {count} item{'s' if count != 1 else ''}"
    if validator == "minProperties":
        return f"{subject} is empty"
    if validator == "maxLength":
        return f"{subject} is longer than {error.validator_value} characters"
    if validator in ("minimum", "maximum"):
        return f"{subject} is out of range ({error.message})"
    return f"{subject}: {error.message}"
