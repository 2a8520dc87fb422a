"""The email inviting a member of staff to set a password (rendered without Flask)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from surveys.invitations.emails import _environment


def build_staff_invite(*, to: str, sender: str, inviter: str, role: str, link: str,
                       expires_at: datetime, language: str = "en") -> EmailMessage:
    env = _environment(language)
    context = {"inviter": inviter, "role": role, "link": link, "language": language,
               "expires": expires_at.strftime("%Y-%m-%d %H:%M")}
    message = EmailMessage()
    message["Subject"] = env.get_template("staff_invite_subject.txt").render(context).strip()
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="surveys.invalid")
    message.set_content(env.get_template("staff_invite.txt").render(context))
    message.add_alternative(env.get_template("staff_invite.html").render(context), subtype="html")
    message["Content-Language"] = language
    return message
