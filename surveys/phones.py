"""UK phone numbers: checked and stored in E.164 (+447700900123), so every channel and
every provider sees the same number however the cohort file wrote it."""

from __future__ import annotations

import re

import phonenumbers

# Ofcom keeps these ranges for drama and tests (GOV.UK Notify's test numbers are in the
# mobile one); phonenumbers calls them invalid, but demo and test cohorts use them.
_DRAMA = re.compile(r"^\+44(7700900|1632960)\d{3}$")
_DRAMA_MOBILE = re.compile(r"^\+447700900\d{3}$")


def normalise(raw: str) -> tuple[str | None, str | None]:
    """(the number in E.164, None), or (None, a problem to show after the column name)."""
    shown = raw.strip()[:30]
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        return None, f"'{shown}' is not a phone number"
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.country_code != 44:
        return None, f"'{shown}' is not a UK phone number"
    if not (phonenumbers.is_valid_number(number) or _DRAMA.match(e164)):
        return None, f"'{shown}' is not a valid UK phone number"
    return e164, None


def is_mobile(e164: str | None) -> bool:
    """Whether a text message can reach this number (landlines stay for telephone calls)."""
    if not e164:
        return False
    if _DRAMA_MOBILE.match(e164):
        return True
    try:
        number = phonenumbers.parse(e164, "GB")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def for_dialling(e164: str) -> str:
    """A stored number as an interviewer in the UK dials it: 07700 900123, 020 7946 0000
    (numbers of other countries stay international)."""
    try:
        number = phonenumbers.parse(e164, "GB")
    except phonenumbers.NumberParseException:
        return e164
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 44
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)
