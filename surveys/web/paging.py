"""Pages of a long staff list: the GOV.UK pagination component's parameters, and the
message for a filter or page number the list cannot use.

Shown: the first and last pages, the current one and its neighbours, with gaps marked
(the design system's pattern for many pages)."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import format_decimal
from flask_babel import gettext as _

from surveys.cohort.participant_list import BadFilter


def page_number(raw: str) -> int | None:
    """The page number asked for in a query string, or None when it is not a number (a
    number past the last page is the list's own check, which knows the total)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None


def pagination(page: int, pages: int, href: Callable[[int], str],
               landmark: str) -> dict | None:
    """Parameters for govukPagination, or None when everything fits on one page."""
    if pages <= 1:
        return None
    wanted = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    items: list[dict] = []
    for n, after in zip(wanted, wanted[1:] + [None], strict=True):
        items.append({"number": format_decimal(n), "href": href(n), "current": n == page,
                      "visuallyHiddenText": _("Page %(num)s", num=n)})
        if after is not None and after > n + 1:
            items.append({"ellipsis": True})
    params: dict = {"items": items, "landmarkLabel": landmark}
    if page > 1:
        params["previous"] = {"href": href(page - 1), "text": _("Previous")}
    if page < pages:
        params["next"] = {"href": href(page + 1), "text": _("Next")}
    return params


def filter_problem(exc: BadFilter) -> str:
    """The one line to show for a filter a list cannot use, in the reader's language."""
    messages = {
        "bad_ref": _("Enter a reference using only letters, digits, hyphens and underscores"),
        "bad_arm": _("There is no arm called '%(arm)s' in this study",
                     arm=exc.params.get("arm", "")),
        "bad_wave": _("There is no wave called '%(wave)s' in this study",
                      wave=exc.params.get("wave", "")),
        "bad_status": _("Select a questionnaire status from the list"),
        "status_without_wave": _("Select a wave for the questionnaire status"),
        "bad_sort": _("Sort by reference, site or completion date"),
        "bad_page": _("Enter a page number from 1 to %(pages)s",
                      pages=exc.params.get("pages", 1)),
    }
    return messages[exc.problem]
