"""Reading definition files: YAML with fewer surprises for researchers.

Two changes to PyYAML's safe loader:
- only true/false are booleans, so `equals: yes`, `value: no` and `value: on`
  stay the strings a researcher meant (YAML 1.1 would turn them into True and
  False);
- a key written twice in one mapping is an error instead of silently keeping
  the last one.
"""

from __future__ import annotations

import re

import yaml

_BOOL_TAG = "tag:yaml.org,2002:bool"


class DefinitionLoader(yaml.SafeLoader):
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen: set = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (str, int, float, bool)) or key is None:
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"the key {key!r} is written twice", key_node.start_mark
                        )
                    seen.add(key)
        return super().construct_mapping(node, deep=deep)


DefinitionLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_yaml(source: str) -> object:
    """Parse YAML text; raises yaml.YAMLError."""
    return yaml.load(source, Loader=DefinitionLoader)  # noqa: S506 - a SafeLoader subclass


def describe_yaml_error(error: yaml.YAMLError) -> str:
    """A one-line, plain description of a YAML syntax error."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    advice = ""
    if "but got '?'" in problem:
        advice = (
            " (inside {en: ..., cy: ...} a text with a question mark must be in quotes;"
            " or put en: and cy: on lines of their own)"
        )
    return f"not valid YAML: {where}{problem}{advice}"
