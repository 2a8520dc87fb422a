"""From a schema-valid document to an Instrument, with the checks a schema cannot make.

Checks: ids unique; choices where the answer type needs them (and only there);
labels, scale_labels and max_length only on the types they belong to; show_if
refers to a question on an earlier page, with an operator and values that fit
that question's answer type.
"""

from __future__ import annotations

from dataclasses import dataclass

from instruments.model import (
    BUILT_IN_CHOICE_TYPES,
    DEFAULT_MAX_LENGTH,
    FREE_TEXT,
    MULTIPLE_CHOICE,
    OWN_CHOICE_TYPES,
    SCALE_0_10,
    SCALE_MAX,
    SCALE_MIN,
    AllOf,
    AnyOf,
    Choice,
    Condition,
    Equals,
    In,
    Includes,
    Instrument,
    Page,
    Question,
)

_OPERATORS = ("equals", "in", "includes")
_ONLY_FOR = {
    "labels": BUILT_IN_CHOICE_TYPES,
    "scale_labels": (SCALE_0_10,),
    "max_length": (FREE_TEXT,),
    "choices": OWN_CHOICE_TYPES,
}


def _and(words: tuple[str, ...]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


@dataclass(frozen=True)
class _Target:
    """What a show_if needs to know about the question it refers to."""

    page_index: int
    type: str
    values: tuple[str, ...]


class Builder:
    def __init__(self, label: str, built_in_choices: dict[str, tuple[Choice, ...]]):
        self.label = label
        self.built_in = built_in_choices
        self.problems: list[str] = []

    def problem(self, where: str, what: str) -> None:
        self.problems.append(f"{self.label}: {where}: {what}" if where else f"{self.label}: {what}")

    def build(self, document: dict) -> Instrument:
        targets = self._index(document["pages"])
        pages = tuple(
            self._page(raw, index, targets) for index, raw in enumerate(document["pages"])
        )
        return Instrument(
            name=document["name"],
            version=document["version"],
            audience=document["audience"],
            title=dict(document["title"]),
            intro=dict(document["intro"]) if "intro" in document else None,
            pages=pages,
        )

    # First pass: ids, choices ----------------------------------------------

    def _index(self, raw_pages: list[dict]) -> dict[str, _Target]:
        targets: dict[str, _Target] = {}
        page_ids: set[str] = set()
        for page_index, raw_page in enumerate(raw_pages):
            if raw_page["id"] in page_ids:
                self.problem(f"page {raw_page['id']!r}", "the id is used by more than one page")
            page_ids.add(raw_page["id"])
            for raw in raw_page["questions"]:
                where = f"question {raw['id']!r}"
                values = tuple(choice.value for choice in self._choices(raw, where))
                if raw["id"] in targets:
                    other = raw_pages[targets[raw["id"]].page_index]["id"]
                    self.problem(
                        where,
                        f"the id is used by more than one question (pages {other!r} "
                        f"and {raw_page['id']!r})",
                    )
                    continue
                targets[raw["id"]] = _Target(page_index, raw["type"], values)
        return targets

    def _choices(self, raw: dict, where: str) -> tuple[Choice, ...]:
        kind = raw["type"]
        for field_name, types in _ONLY_FOR.items():
            if field_name in raw and kind not in types:
                hint = " (their choices are built in; use labels to reword them)"
                extra = hint if field_name == "choices" and kind in BUILT_IN_CHOICE_TYPES else ""
                self.problem(
                    where,
                    f"{field_name} is only for {_and(types)} questions, not {kind}{extra}",
                )
        if kind in OWN_CHOICE_TYPES:
            if "choices" not in raw:
                self.problem(where, f"a {kind} question needs choices")
                return ()
            choices = tuple(Choice(c["value"], dict(c["label"])) for c in raw["choices"])
            seen: set[str] = set()
            for choice in choices:
                if choice.value in seen:
                    self.problem(where, f"choice value {choice.value!r} is listed more than once")
                seen.add(choice.value)
            return choices
        if kind in BUILT_IN_CHOICE_TYPES:
            labels = raw.get("labels", {})
            built_in = self.built_in[kind]
            values = [choice.value for choice in built_in]
            for value in labels:
                if value not in values:
                    self.problem(
                        where,
                        f"labels gives a label for {value!r}, which is not one of the "
                        f"{kind} values ({', '.join(values)})",
                    )
            return tuple(
                Choice(c.value, dict(labels[c.value]) if c.value in labels else dict(c.label))
                for c in built_in
            )
        return ()

    # Second pass: questions and routing -------------------------------------

    def _page(self, raw: dict, index: int, targets: dict[str, _Target]) -> Page:
        where = f"page {raw['id']!r}"
        show_if = self._show_if(raw.get("show_if"), where, index, targets)
        questions = tuple(self._question(q, index, targets) for q in raw["questions"])
        title = dict(raw["title"]) if "title" in raw else None
        return Page(id=raw["id"], title=title, show_if=show_if, questions=questions)

    def _question(self, raw: dict, page_index: int, targets: dict[str, _Target]) -> Question:
        where = f"question {raw['id']!r}"
        kind = raw["type"]
        choices = self._choices_quietly(raw)
        scale_labels = {}
        max_length = int(raw.get("max_length", DEFAULT_MAX_LENGTH)) if kind == FREE_TEXT else None
        if kind == SCALE_0_10:
            for key, score in (("low", SCALE_MIN), ("high", SCALE_MAX)):
                if key in raw.get("scale_labels", {}):
                    scale_labels[score] = dict(raw["scale_labels"][key])
        if "error" in raw and not raw.get("required", True):
            self.problem(where, "error is the message for a missing answer, but the question is "
                                "optional (required: false): remove error or required")
        return Question(
            id=raw["id"],
            type=kind,
            text=dict(raw["text"]),
            hint=dict(raw["hint"]) if "hint" in raw else None,
            required=raw.get("required", True),
            error=dict(raw["error"]) if "error" in raw else None,
            choices=choices,
            max_length=max_length,
            show_if=self._show_if(raw.get("show_if"), where, page_index, targets),
            scale_labels=scale_labels,
        )

    def _choices_quietly(self, raw: dict) -> tuple[Choice, ...]:
        """The choices again, without reporting the problems a second time."""
        problems = self.problems
        self.problems = []
        try:
            return self._choices(raw, "")
        finally:
            self.problems = problems

    def _show_if(
        self, raw: dict | None, where: str, page_index: int, targets: dict[str, _Target]
    ) -> Condition | None:
        if raw is None:
            return None
        return self._condition(raw, where, page_index, targets)

    def _condition(
        self, raw: dict, where: str, page_index: int, targets: dict[str, _Target]
    ) -> Condition | None:
        combiners = [key for key in ("all", "any") if key in raw]
        if combiners:
            if len(raw) != 1:
                self.problem(
                    where,
                    f"show_if: write {combiners[0]!r} on its own, "
                    f"e.g. {{{combiners[0]}: [{{question: ..., equals: ...}}, ...]}}",
                )
                return None
            parts = [
                self._condition(part, where, page_index, targets) for part in raw[combiners[0]]
            ]
            if any(part is None for part in parts):
                return None
            return (AllOf if combiners[0] == "all" else AnyOf)(tuple(parts))

        operators = [key for key in _OPERATORS if key in raw]
        if "question" not in raw or len(operators) != 1:
            self.problem(
                where,
                "show_if needs a question and exactly one of 'equals', 'in' or 'includes', "
                "e.g. {question: read_plan, equals: yes}",
            )
            return None
        question_id, operator = raw["question"], operators[0]
        target = targets.get(question_id)
        if target is None:
            self.problem(where, f"show_if refers to unknown question {question_id!r}")
            return None
        if target.page_index >= page_index:
            self.problem(
                where,
                f"show_if refers to question {question_id!r}, which is not on an earlier page "
                "(routing can only depend on answers already given)",
            )
            return None
        values = raw[operator] if operator == "in" else [raw[operator]]
        if not self._values_fit(where, question_id, target, operator, values):
            return None
        if operator == "equals":
            return Equals(question_id, raw["equals"])
        if operator == "in":
            return In(question_id, tuple(raw["in"]))
        return Includes(question_id, raw["includes"])

    def _values_fit(
        self, where: str, question_id: str, target: _Target, operator: str, values: list
    ) -> bool:
        if target.type == FREE_TEXT:
            self.problem(where, f"show_if cannot depend on the free text question {question_id!r}")
            return False
        if (operator == "includes") != (target.type == MULTIPLE_CHOICE):
            advice = "use 'includes'" if target.type == MULTIPLE_CHOICE else "use 'equals' or 'in'"
            self.problem(
                where,
                f"show_if uses {operator!r} with the {target.type} question {question_id!r}; "
                f"{advice}",
            )
            return False
        fits = True
        for value in values:
            if target.type == SCALE_0_10:
                if not (isinstance(value, int) and SCALE_MIN <= value <= SCALE_MAX):
                    self.problem(
                        where,
                        f"show_if value {value!r} for question {question_id!r} must be a whole "
                        f"number from {SCALE_MIN} to {SCALE_MAX}",
                    )
                    fits = False
            elif value not in target.values:
                self.problem(
                    where,
                    f"show_if value {value!r} is not a choice of question {question_id!r} "
                    f"(choices: {', '.join(target.values)})",
                )
                fits = False
        return fits
