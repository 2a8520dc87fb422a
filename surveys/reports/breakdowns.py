"""Breakdowns: any table split by site, main channel, language, appointments attended or arm.

Rule for channel: a client's main channel is the channel of most of their scheduled
appointments; a tie goes to the channel used most recently among those tied (see
`queries.main_channels`). Responses that could not be linked to a client have no
site, channel, language or appointments, and form a group of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from surveys.i18n import N_
from surveys.reports.build import Group, t

NO_GROUP = "_none"

DIMENSION_LABELS = {
    "site": N_("Site"),
    "channel": N_("Main channel of appointments"),
    "language": N_("Language"),
    "appointments": N_("Appointments attended"),
    "arm": N_("Arm"),
}
CHANNEL_LABELS = {
    "telephone": N_("Telephone"),
    "face_to_face_site": N_("Face to face at the site"),
    "face_to_face_neutral": N_("Face to face at a neutral location"),
    "video": N_("Video"),
}
ATTENDANCE_LABELS = {
    "attended": N_("Attended"),
    "unable_to_attend": N_("Unable to attend"),
    "failed_to_attend": N_("Failed to attend"),
}
LANGUAGE_LABELS = {"en": N_("English"), "cy": N_("Welsh")}


@dataclass(frozen=True)
class Breakdown:
    key: str
    language: str
    # The study's arms, in its order (first compared with second): arm groups follow it.
    arms: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return t(DIMENSION_LABELS[self.key], self.language)

    def value_label(self, value: Any, none_label: str) -> str:
        if value is None:
            return none_label
        if self.key == "channel":
            return t(CHANNEL_LABELS.get(value, value), self.language)
        if self.key == "language":
            return t(LANGUAGE_LABELS.get(value, value), self.language)
        if self.key == "appointments":
            return t(N_("{n} attended"), self.language, n=value)
        return str(value)

    def groups(self, values: Iterable[Any], none_label: str | None = None) -> list[Group]:
        present = set(values)
        none = t(none_label or N_("Not recorded"), self.language)

        def order(value: Any) -> tuple:
            if self.key == "appointments":
                return (int(value),)
            if self.key == "channel":
                keys = list(CHANNEL_LABELS)
                return (keys.index(value) if value in keys else len(keys), str(value))
            if self.key == "arm":
                known = list(self.arms)
                return (known.index(value) if value in known else len(known), str(value))
            return (str(value).lower(),)

        ordered = sorted((v for v in present if v is not None), key=order)
        out = [Group(str(v), self.value_label(v, none)) for v in ordered]
        if None in present:
            out.append(Group(NO_GROUP, none))
        return out


def group_value(group: Group) -> Any:
    """The database value a group stands for (None for the 'not recorded' group)."""
    return None if group.key == NO_GROUP else group.key


NOT_LINKED = N_("Not linked to a client")
