"""The one error a broken definition raises."""

from __future__ import annotations


class InstrumentError(Exception):
    """A definition that cannot be used, with every problem found in it.

    Each problem reads "<file>: <where>: <what is wrong>", e.g.
    "wave2.yaml: question 'steps_helped': show_if refers to unknown question
    'step_taken'". `problems` holds them one by one.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class InstrumentNotFound(InstrumentError, LookupError):
    """No instrument by that name, or no such version of it."""
