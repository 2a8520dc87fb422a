"""Text messages and GOV.UK Notify end to end, against a Notify stand-in on 127.0.0.1 that
checks each request as Notify documents it (tests/notify_server.py); email by SMTP still
goes to the real aiosmtpd server."""

from __future__ import annotations

import dataclasses

import jwt
import pytest
from sqlalchemy import select

from scheduler.jobs import dispatch
from surveys.accounts import create_user
from surveys.cohort.importer import ImportRejected, import_cohort
from surveys.models import Invitation, Message, Participant
from surveys.studies import resolve_study, wave_by_code
from tests import notify_server as ns
from tests.helpers import participants_csv, sign_in

PASSWORD = "correct horse battery"
MOBILE = "07700 900123"
LANDLINE = "020 7946 0000"


@pytest.fixture
def notify():
    with ns.NotifyServer() as server:
        yield server


@pytest.fixture
def notify_settings(settings, notify):
    return dataclasses.replace(
        settings, notify_api_key=ns.API_KEY, notify_base_url=notify.url,
        notify_sms_template_id=ns.SMS_TEMPLATE, notify_email_template_id=ns.EMAIL_TEMPLATE)


def load(session_factory, clock, *people, channels=("sms",)) -> None:
    """People as (ref, email, phone); wave1 due today, over `channels`."""
    rows = [(ref, "Hull", clock().date().isoformat(), "en", email, phone, 5, 5, 7)
            for ref, email, phone in people]
    with session_factory() as s:
        study = resolve_study(s, None, create=True)
        wave_by_code(study, "wave1").channels = list(channels)
        import_cohort(s, study, participants_csv(*rows))
        s.commit()


def messages(session_factory) -> list[tuple[str, str, str, str | None]]:
    with session_factory() as s:
        return [(m.channel, m.provider, m.status, m.error) for m in
                s.scalars(select(Message).order_by(Message.channel, Message.id))]


def delivery(session_factory, ref: str) -> tuple[str, str | None]:
    with session_factory() as s:
        inv = s.scalar(select(Invitation).join(Participant)
                       .where(Participant.ref == ref, Invitation.issued_at.is_not(None)))
        return inv.delivery_status, inv.last_error


def test_an_sms_wave_goes_through_notify_with_the_documented_request(
        session_factory, notify_settings, mailer, smtp, notify, clock):
    load(session_factory, clock, ("S-1", "s1@example.org", MOBILE))
    report = dispatch(session_factory, clock(), notify_settings, mailer)
    assert report.sent == 1 and notify.problems == []
    [sms] = notify.of_type("sms")
    assert sms["phone_number"] == "+447700900123" and sms["template_id"] == ns.SMS_TEMPLATE
    fields = sms["personalisation"]
    assert fields["programme"] and fields["link"].startswith("http://surveys.test/r/")
    assert fields["closing_date"] == "30 March 2026"
    assert set(fields) == ns.PERSONALISATION and len(sms["reference"]) == 40
    assert smtp.messages == []  # the wave is SMS only
    assert messages(session_factory) == [("sms", "notify", "sending", None)]
    assert delivery(session_factory, "S-1") == ("sent", None)


def test_an_email_and_sms_wave_sends_both_and_a_retry_resends_only_what_failed(
        session_factory, notify_settings, mailer, smtp, notify, clock):
    load(session_factory, clock, ("B-1", "b1@example.org", MOBILE), channels=("email", "sms"))
    notify.refuse_with = (403, "AuthError", "Invalid token: API key not found")
    report = dispatch(session_factory, clock(), notify_settings, mailer)
    assert report.failed_attempts == 1 and len(smtp.to("b1@example.org")) == 1
    status, error = delivery(session_factory, "B-1")
    assert status == "pending" and "text message: GOV.UK Notify refused the message (403)" \
        in error and "API key not found" in error
    notify.refuse_with = None
    clock.advance(minutes=1)
    assert dispatch(session_factory, clock(), notify_settings, mailer).sent == 1
    assert len(smtp.to("b1@example.org")) == 1  # the email that went is not sent again
    assert len(notify.of_type("sms")) == 1
    assert messages(session_factory) == [("email", "smtp", "sent", None),
                                         ("sms", "notify", "sending", None)]


def test_a_bad_key_is_retried_then_fails_with_a_readable_error(
        session_factory, notify_settings, mailer, notify, clock):
    wrong = dataclasses.replace(notify_settings, notify_api_key=ns.API_KEY[:-12] + "0" * 12)
    load(session_factory, clock, ("K-1", "", MOBILE))
    for wait in (0, 60, 120):
        clock.advance(seconds=wait)
        assert dispatch(session_factory, clock(), wrong, None).failed_attempts == 1
    assert delivery(session_factory, "K-1") == (
        "failed", "text message: GOV.UK Notify refused the message (403): "
        "Invalid token: InvalidSignatureError")
    clock.advance(days=1)
    assert dispatch(session_factory, clock(), wrong, None).failed_attempts == 0
    assert notify.sent == [] and len(notify.problems) == 3


def test_receipts_mark_delivered_and_permanent_failure_shown_to_researchers(
        app, client, session_factory, notify_settings, mailer, notify, clock):
    load(session_factory, clock, ("D-1", "", MOBILE), ("P-1", "", "07700 900456"))
    dispatch(session_factory, clock(), notify_settings, mailer)
    by_phone = {n["phone_number"]: n["id"] for n in notify.of_type("sms")}
    notify.statuses[by_phone["+447700900123"]] = "delivered"
    notify.statuses[by_phone["+447700900456"]] = "permanent-failure"
    clock.advance(minutes=2)
    assert dispatch(session_factory, clock(), notify_settings, mailer).receipts == 2
    assert sorted(m[2] for m in messages(session_factory)) == ["delivered", "permanent-failure"]
    assert len(notify.of_type("sms")) == 2  # a permanent failure is not sent again
    with session_factory() as s:
        create_user(s, "researcher@example.org", PASSWORD, "researcher")
        s.commit()
    sign_in(client, "researcher@example.org", PASSWORD)
    page = client.get("/staff/studies/default/invitations").get_data(as_text=True)
    assert "Text message not delivered (permanent failure): +447700900456" in page
    assert "GOV.UK Notify could not deliver to +447700900456: check the phone number" in page
    assert "+447700900123" not in page  # delivered: nothing to fix


def test_a_temporary_failure_is_sent_again_later(
        session_factory, notify_settings, mailer, notify, clock):
    load(session_factory, clock, ("T-1", "", MOBILE))
    dispatch(session_factory, clock(), notify_settings, mailer)
    notify.statuses[notify.sent[0]["id"]] = "temporary-failure"
    clock.advance(minutes=2)
    report = dispatch(session_factory, clock(), notify_settings, mailer)
    assert report.receipts == 1 and report.sent == 0
    assert messages(session_factory)[0][2] == "temporary-failure"
    clock.advance(minutes=1)  # the backoff after one attempt
    assert dispatch(session_factory, clock(), notify_settings, mailer).sent == 1
    assert [n["phone_number"] for n in notify.of_type("sms")] == ["+447700900123"] * 2
    # The same reference both times: Notify (and anyone reading it) sees one message retried.
    assert notify.sent[0]["reference"] == notify.sent[1]["reference"]
    assert messages(session_factory) == [("sms", "notify", "sending", None)]


def test_a_landline_gets_no_text_message_and_researchers_see_why(
        session_factory, notify_settings, mailer, notify, clock):
    load(session_factory, clock, ("L-1", "", LANDLINE))
    dispatch(session_factory, clock(), notify_settings, mailer)
    assert notify.sent == []
    assert messages(session_factory) == [
        ("sms", "notify", "permanent-failure",
         "+442079460000 is not a mobile number: text messages go only to mobiles")]
    assert delivery(session_factory, "L-1")[0] == "failed"


def test_sms_without_notify_settings_is_recorded_once(session_factory, settings, mailer, smtp,
                                                       clock):
    load(session_factory, clock, ("N-1", "n1@example.org", MOBILE), channels=("email", "sms"))
    assert dispatch(session_factory, clock(), settings, mailer).sent == 1
    clock.advance(days=7)  # the reminder: email again, the SMS problem still recorded
    dispatch(session_factory, clock(), settings, mailer)
    assert len(smtp.to("n1@example.org")) == 2
    rows = messages(session_factory)
    assert [r for r in rows if r[0] == "sms"] == [
        ("sms", "notify", "technical-failure", "SMS needs GOV.UK Notify settings")] * 2


def test_email_through_notify_when_chosen(session_factory, notify_settings, mailer, smtp,
                                          notify, clock):
    chosen = dataclasses.replace(notify_settings, email_provider="notify")
    load(session_factory, clock, ("E-1", "e1@example.org", ""), channels=("email",))
    assert dispatch(session_factory, clock(), chosen, mailer).sent == 1
    [email] = notify.of_type("email")
    assert email["email_address"] == "e1@example.org" and smtp.messages == []
    assert messages(session_factory) == [("email", "notify", "sending", None)]


def test_no_contact_for_the_waves_channels_is_not_sent(session_factory, notify_settings,
                                                        mailer, notify, clock):
    load(session_factory, clock, ("C-1", "c1@example.org", ""), channels=("sms",))
    assert dispatch(session_factory, clock(), notify_settings, mailer).cancelled == 1
    assert delivery(session_factory, "C-1") == ("cancelled", "no_contact")


def test_the_stand_in_refuses_a_stale_token(notify):
    """The checks themselves: a token issued 31 seconds ago is refused, as Notify does."""
    import time

    import requests

    token = jwt.encode({"iss": ns.SERVICE_ID, "iat": int(time.time()) - 31}, ns.SECRET,
                       algorithm="HS256")
    reply = requests.get(f"{notify.url}/v2/notifications/{'0' * 36}",
                         headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert reply.status_code == 403 and "30 seconds" in reply.json()["errors"][0]["message"]


def test_phone_numbers_are_stored_in_e164_and_bad_ones_refused(session_factory, clock):
    load(session_factory, clock, ("M-1", "", MOBILE), ("M-2", "", LANDLINE))
    with session_factory() as s:
        assert {r: p for r, p in s.execute(select(Participant.ref, Participant.phone))} == {
            "M-1": "+447700900123", "M-2": "+442079460000"}
    with pytest.raises(ImportRejected) as refused:
        load(session_factory, clock, ("M-3", "", "12345"), ("M-4", "", "0000 000000"),
             ("M-5", "", "+353 85 123 4567"))
    assert str(refused.value).splitlines()[1:] == [
        "participants.csv line 2, column 'phone': '12345' is not a valid UK phone number",
        "participants.csv line 3, column 'phone': '0000 000000' is not a valid UK phone number",
        "participants.csv line 4, column 'phone': '+353 85 123 4567' is not a UK phone number"]
    with session_factory() as s:
        assert s.scalar(select(Participant.id).where(Participant.ref.in_(["M-3", "M-4"]))) \
            is None


@pytest.mark.parametrize(("variables", "message"), [
    ({"SURVEYS_NOTIFY_API_KEY": "not-a-key"},
     "Error: SURVEYS_NOTIFY_API_KEY must be the key as GOV.UK Notify shows it: its name, "
     "then the service id and the secret (two ids)."),
    ({"SURVEYS_EMAIL_PROVIDER": "notify"},
     "Error: SURVEYS_EMAIL_PROVIDER=notify needs SURVEYS_NOTIFY_API_KEY and "
     "SURVEYS_NOTIFY_EMAIL_TEMPLATE_ID."),
    ({"SURVEYS_EMAIL_PROVIDER": "pigeon"},
     "Error: SURVEYS_EMAIL_PROVIDER must be smtp or notify, not 'pigeon'."),
    ({"SURVEYS_NOTIFY_API_KEY": ns.API_KEY, "SURVEYS_NOTIFY_SMS_TEMPLATE_ID": "sms"},
     "Error: SURVEYS_NOTIFY_SMS_TEMPLATE_ID must be a GOV.UK Notify template id "
     "(e.g. 0f1e2d3c-...-...), not 'sms'."),
    ({"SURVEYS_NOTIFY_API_KEY": ns.API_KEY, "SURVEYS_NOTIFY_SMS_TEMPLATE_ID": ns.SMS_TEMPLATE,
      "SURVEYS_NOTIFY_BASE_URL": "api.notify"},
     "Error: SURVEYS_NOTIFY_BASE_URL must be an http:// or https:// address, e.g. "
     "https://api.notifications.service.gov.uk."),
])
def test_notify_settings_that_cannot_work_stop_start_up_in_one_line(tmp_path, variables,
                                                                     message):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYS_")}
    done = subprocess.run([str(Path(sys.executable).parent / "surveys"), "--help"],
                          env={**env, "SURVEYS_INSTANCE_DIR": str(tmp_path), **variables},
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode != 0 and done.stderr.strip().splitlines() == [message]


def test_good_notify_settings_are_read(monkeypatch):
    from surveys.settings import _cheap_settings

    monkeypatch.setenv("SURVEYS_NOTIFY_API_KEY", ns.API_KEY)
    monkeypatch.setenv("SURVEYS_NOTIFY_SMS_TEMPLATE_ID", ns.SMS_TEMPLATE)
    read = _cheap_settings()
    assert (read["notify_api_key"], read["notify_sms_template_id"], read["email_provider"],
            read["notify_base_url"]) == (ns.API_KEY, ns.SMS_TEMPLATE, "smtp",
                                         "https://api.notifications.service.gov.uk")
