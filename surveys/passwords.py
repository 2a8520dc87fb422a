"""The password rule for staff accounts, who see health data (after NCSC guidance).

Length over complexity: at least 12 characters, no composition rules, but none of
the passwords guessers try first (a short bundled list of the most common ones, also
with digits or symbols added at the end), no repeated or sequential filler, and not
the person's own email name. The refusal names the rule, in one line.
"""

from __future__ import annotations

import re

MIN_LENGTH = 12
MAX_LENGTH = 200  # the sign-in form takes no more

# The most common passwords and the words they are built from (public breach lists'
# top entries), lower case; compared also with trailing digits and symbols removed.
_COMMON_WORDS = """
123456 123456789 12345678 12345 1234567 1234567890 111111 123123 000000 654321 123321
121212 666666 7777777 987654321 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx zaq12wsx
1qazxsw2 q1w2e3r4 q1w2e3r4t5y6 qwerty qwerty123 qwertyuiop qwertyuiop123 asdfgh
asdfghjkl zxcvbnm qazwsx abc123 abcd1234 password password1 password12 password123
password1234 passw0rd p@ssw0rd p@ssword pa55word letmein letmein123 welcome welcome1
welcome123 iloveyou iloveyou123 admin admin123 administrator root login changeme
changeme123 default secret letmeinplease trustno1 dragon monkey sunshine princess
football baseball superman batman starwars master shadow whatever freedom hello
hellothere charlie michael jessica ashley mustang access solo flower lovely
computer internet cheese chocolate summer winter spring autumn january february
march april june july august september october november december monday friday
liverpool arsenal chelsea manchester london england scotland wales cymru
qwertyuiopasdfghjkl youtube facebook google linkedin instagram
survey surveys healthandwork health nhs jobcentre
"""
COMMON = frozenset(_COMMON_WORDS.split())

_TRAILING = "0123456789!@#$%^&*()-_=+.,?;:~ '\""
_SEQUENCES = ("0123456789012345678901234567890", "abcdefghijklmnopqrstuvwxyz",
              "qwertyuiopasdfghjklzxcvbnm")


class PasswordRefused(ValueError):
    pass


def check(password: str, email: str) -> None:
    """Raise PasswordRefused naming the rule the password breaks."""
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"The password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"The password must be at most {MAX_LENGTH} characters long.")
    if _is_common(password):
        raise PasswordRefused("The password is one of the most common passwords; choose "
                              "another (three or four random words work well).")
    if _is_filler(password):
        raise PasswordRefused("The password is a repeated or sequential pattern (like "
                              "'aaaa', 'abab' or '1234'); choose another.")
    name = _email_name(email)
    if name and name in re.sub(r"[^a-z0-9]", "", password.lower()):
        raise PasswordRefused("The password must not contain the name of the email address "
                              "(the part before the @).")


def _squash(text: str) -> str:
    """Lower case without spaces, so 'Pass Word 1' and 'password1' compare alike."""
    return re.sub(r"\s+", "", text.lower())


def _is_common(password: str) -> bool:
    squashed = _squash(password)
    return squashed in COMMON or squashed.strip(_TRAILING) in COMMON


def _is_filler(password: str) -> bool:
    lowered = password.lower()
    for size in range(1, 5):  # 'aaaa…', 'abab…', 'abcabc…', 'abcdabcd…'
        unit = lowered[:size]
        if len(lowered) > size and (unit * (len(lowered) // size + 1)).startswith(lowered):
            return True
    return any(lowered in seq or lowered in seq[::-1] for seq in _SEQUENCES)


def _email_name(email: str) -> str:
    """The local part of the address, without punctuation; ignored when too short to matter."""
    local = email.rpartition("@")[0].lower()
    name = re.sub(r"[^a-z0-9]", "", local)
    return name if len(name) >= 4 else ""
