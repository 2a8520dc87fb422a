"""Audit event codes in words, for the audit log page and its CSV.

Every action code recorded in surveys/ and scheduler/ is named here; a code without a
sentence (a new one, or one from an older release) is shown as the code itself.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTIONS = {
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Failed to sign in"),
    "sign_out": _l("Signed out"),
    "account_created": _l("Created a staff account"),
    "staff_invited": _l("Invited a member of staff"),
    "staff_invitation_resent": _l("Sent a new staff invitation"),
    "staff_password_set": _l("Set their password from an invitation"),
    "staff_role_changed": _l("Changed a staff member's role"),
    "staff_studies_changed": _l("Changed the studies a staff member may see"),
    "staff_deactivated": _l("Deactivated a staff account"),
    "staff_reactivated": _l("Reactivated a staff account"),
    "staff_unlocked": _l("Unlocked a staff account's sign-in"),
    "study_apply": _l("Created or changed a study"),
    "cohort_import": _l("Imported a cohort"),
    "response_import": _l("Imported responses"),
    "referral_import": _l("Imported referrals"),
    "schedule_change": _l("Changed the schedule"),
    "wave_paused": _l("Paused issuing a wave"),
    "wave_resumed": _l("Resumed issuing a wave"),
    "telephone_entry": _l("Entered answers by telephone"),
    "call_attempt": _l("Recorded a telephone call"),
    "report_view": _l("Viewed a report"),
    "export": _l("Downloaded data"),
    "participant_erased": _l("Erased a participant"),
    "contact_details_changed": _l("Changed a participant's contact details"),
    "participant_resend": _l("Sent a participant's link again"),
    "personal_link_shown": _l("Was shown a participant's personal link"),
    "participant_withdrawn": _l("Withdrew a participant"),
    "participant_opted_out": _l("A participant opted out of messages"),
    "contact_details_erased": _l("Erased contact details past their keeping time"),
}

# Detail keys shown in their own columns rather than among the details. Events name a
# participant by id (the log keeps no reference: the page looks the reference up, so an
# erased participant shows none) or, from older code, by reference.
STUDY_KEY = "study"
PARTICIPANT_KEYS = ("participant_id", "participant", "participant_ref", "ref")


def action_text(code: str) -> str:
    words = ACTIONS.get(code)
    return str(words) if words is not None else code


def participant_id(detail: dict | None) -> int | None:
    value = (detail or {}).get("participant_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def participant_ref(detail: dict | None, refs: dict[int, str]) -> str:
    """The participant's reference: looked up from the id in `refs`, or as recorded."""
    found = participant_id(detail)
    if found is not None:
        return refs.get(found, "")
    for key in PARTICIPANT_KEYS[1:]:
        value = (detail or {}).get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def other_details(detail: dict | None) -> list[tuple[str, str]]:
    hidden = {STUDY_KEY, *PARTICIPANT_KEYS}
    return [(str(key), value if isinstance(value, str) else repr(value))
            for key, value in sorted((detail or {}).items()) if key not in hidden]
