"""Sending a participant's link again (issue 14): each time is a "resend" message of its
own, numbered 1, 2..., that goes through the real SMTP server, shows on the timeline with
who asked, counts where messages are counted, and is found by erasure; rows written by
the earlier workaround (negative sequences) are migrated by 0014 with nothing lost."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import partial

import pytest
from alembic import command
from sqlalchemy import select, text

from scheduler.jobs import dispatch, message_id_for
from surveys.accounts import create_user
from surveys.cohort import participant_record as record
from surveys.cohort.importer import import_cohort
from surveys.invitations import chasing
from surveys.invitations.mailer import OutboxMailer
from surveys.migrate import alembic_config
from surveys.models import AuditEvent, Invitation, Message, Participant
from surveys.privacy import erase_outbox_copies, erase_participant
from surveys.studies import create_study, resolve_study
from tests.helpers import csrf_token, participants_csv, person, sign_in

PASSWORD = "correct horse battery"
BASE = "/staff/studies/default/participants"
WAVE = "End of the intervention"


@pytest.fixture
def world(session_factory, settings, mailer, clock):
    """Three clients with email addresses, their first questionnaire issued and emailed."""
    today = clock().date()
    with session_factory() as s:
        study = create_study(s, "default", "Test study")
        import_cohort(s, study, participants_csv(*(
            person(f"RS-{i}", today, email=f"rs{i}@example.org") for i in (1, 2, 3))),
            today=today)
        create_user(s, "researcher@example.org", PASSWORD, "researcher")
        s.commit()
    dispatch(session_factory, clock(), settings, mailer)
    return session_factory


def invitation(session_factory, ref: str) -> Invitation:
    with session_factory() as s:
        return s.scalar(select(Invitation).join(Participant).where(
            Participant.ref == ref, Invitation.wave.has(code="wave1")))


def messages_of(session_factory, inv_id: int) -> list[tuple]:
    with session_factory() as s:
        return [(m.kind, m.sequence, m.channel, m.status) for m in s.scalars(
            select(Message).where(Message.invitation_id == inv_id).order_by(Message.id))]


def send_again(client, ref: str, inv_id: int) -> str:
    token = csrf_token(client.get(f"{BASE}/{ref}").get_data(as_text=True))
    done = client.post(f"{BASE}/{ref}/resend", data={"csrf_token": token,
                                                     "invitation_id": inv_id},
                       follow_redirects=True)
    assert done.status_code == 200
    return done.get_data(as_text=True)


def test_the_link_sent_twice_goes_twice_shows_twice_and_erasure_removes_both(
        client, world, settings, mailer, smtp, clock):
    sign_in(client, "researcher@example.org", PASSWORD)
    inv = invitation(world, "RS-1")
    assert len(smtp.to("rs1@example.org")) == 1
    for number in (1, 2):
        clock.advance(hours=1)
        html = send_again(client, "RS-1", inv.id)
        assert (f"researcher@example.org asked for the {WAVE} link to be sent again") in html
        queued = invitation(world, "RS-1")
        assert (queued.delivery_kind, queued.resends, queued.delivery_status) == (
            "resend", number, "pending")
        dispatch(world, clock(), settings, mailer)
        assert len(smtp.to("rs1@example.org")) == 1 + number  # through the SMTP server
    assert messages_of(world, inv.id) == [("invitation", 0, "email", "sent"),
                                          ("resend", 1, "email", "sent"),
                                          ("resend", 2, "email", "sent")]
    # Each copy has its own Message-ID, the one erasure looks for.
    nonce = invitation(world, "RS-1").nonce
    ids = [m["Message-ID"] for m in smtp.to("rs1@example.org")]
    assert ids == [message_id_for(settings.secret_key, nonce, kind, n)
                   for kind, n in (("invitation", 0), ("resend", 1), ("resend", 2))]
    # Both on the timeline, newest first, saying who asked; the audit log numbers them.
    page = client.get(f"{BASE}/RS-1").get_data(as_text=True)
    line = f"{WAVE} link sent again by email, as researcher@example.org asked: sent"
    assert page.count(line) == 2
    assert page.index(line) < page.index(f"Invitation for {WAVE} by email: sent")
    with world() as s:
        assert [e.detail["resend"] for e in s.scalars(select(AuditEvent).where(
            AuditEvent.action == "participant_resend").order_by(AuditEvent.id))] == [1, 2]
    # Erased: every message row goes with the invitations.
    token = csrf_token(page)
    done = client.post(f"{BASE}/RS-1/erase", data={"csrf_token": token, "confirm_ref": "RS-1",
                                                   "responses": "keep"}, follow_redirects=True)
    assert "RS-1 has been erased" in done.get_data(as_text=True)
    assert messages_of(world, inv.id) == []
    with world() as s:
        assert s.scalar(select(Message.id).where(Message.invitation_id == inv.id)) is None


def test_erasure_finds_every_copy_sent_again_in_the_outbox(world, settings, clock, tmp_path):
    """Embedded mode: each copy is its own file (one Message-ID each, so the second no longer
    overwrites the first), and erasure finds them all by Message-ID even when the address
    has already gone."""
    outbox = OutboxMailer(tmp_path / "outbox")
    for ref, times in (("RS-2", 2), ("RS-3", 1)):
        for _ in range(times):
            with world() as s:
                record.resend(s, s.get(Invitation, invitation(world, ref).id), clock())
                s.commit()
            dispatch(world, clock(), settings, outbox)
    assert len(list(outbox.folder.glob("*.eml"))) == 3
    with world() as s:
        s.scalar(select(Participant).where(Participant.ref == "RS-2")).email = None
        s.commit()
    with world() as s:
        report = erase_participant(s, resolve_study(s, "default"), "RS-2")
        removed = erase_outbox_copies(outbox, report, partial(message_id_for,
                                                              settings.secret_key))
        s.commit()
    assert removed == 2
    left = list(outbox.folder.glob("*.eml"))
    assert len(left) == 1 and "rs3@example.org" in left[0].read_text()


def test_a_message_still_waiting_goes_once_and_a_fixed_address_clears_the_failure(
        client, world, settings, mailer, smtp, clock):
    sign_in(client, "researcher@example.org", PASSWORD)
    inv = invitation(world, "RS-2")
    # Asked twice before the dispatcher's next pass: one copy goes.
    send_again(client, "RS-2", inv.id)
    send_again(client, "RS-2", inv.id)
    assert invitation(world, "RS-2").resends == 1
    dispatch(world, clock(), settings, mailer)
    assert len(smtp.to("rs2@example.org")) == 2
    # A permanent failure shows on the dashboard and in the participants filter until a
    # copy sent again (to the address put right) overtakes it.
    with world() as s:
        first = s.scalar(select(Message).where(Message.invitation_id == inv.id,
                                               Message.kind == "invitation"))
        first.status = "permanent-failure"
        again = s.scalar(select(Message).where(Message.invitation_id == inv.id,
                                               Message.kind == "resend"))
        s.delete(again)
        s.commit()
    with world() as s:
        assert chasing.delivery_failures(s, resolve_study(s, "default"))[0] == 1
    problem = client.get(f"{BASE}?problem=1").get_data(as_text=True)
    assert re.findall(r'/participants/(RS-\d)"', problem) == ["RS-2"]
    clock.advance(minutes=5)
    send_again(client, "RS-2", inv.id)
    dispatch(world, clock(), settings, mailer)
    with world() as s:
        study = resolve_study(s, "default")
        assert chasing.delivery_failures(s, study)[0] == 0
        open_rows = chasing.open_page(s, study, study.waves[0], 1, clock()).rows
        assert {r.ref: r.last_message for r in open_rows}["RS-2"] == "sent"
    problem = client.get(f"{BASE}?problem=1").get_data(as_text=True)
    assert "No participants match this search." in problem


def _old_style(conn, inv_id: int, rows: list[tuple[int, str]], created) -> None:
    for n, (sequence, status) in enumerate(rows):
        conn.execute(text(
            "INSERT INTO messages (invitation_id, participant_id, kind, sequence, channel, "
            "provider, status, created_at, updated_at) SELECT id, participant_id, "
            "'invitation', :seq, 'email', 'smtp', :status, :at, :at FROM invitations "
            "WHERE id = :inv"), {"seq": sequence, "status": status, "inv": inv_id,
                                 "at": created + timedelta(hours=n)})


def test_migration_0014_turns_negative_sequences_into_numbered_resends(
        world, engine, database_url, clock, settings, mailer):
    """Rows of the workaround: -1 the invitation, -2 the first copy sent again, 0 the
    newest; an invitation waiting to go again (delivery_kind invitation, pending)."""
    config = alembic_config(database_url)
    sent, waiting = invitation(world, "RS-1").id, invitation(world, "RS-2").id
    engine.dispose()
    command.downgrade(config, "0013")
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM messages"))
            _old_style(conn, sent, [(-1, "sent"), (-2, "sent"), (0, "sent")], clock())
            _old_style(conn, waiting, [(-1, "sent")], clock())
            conn.execute(text("UPDATE invitations SET delivery_kind = 'invitation', "
                              "delivery_status = 'pending', next_attempt_at = :at "
                              "WHERE id = :inv"), {"inv": waiting, "at": clock()})
        engine.dispose()
    finally:
        command.upgrade(config, "head")
    assert messages_of(world, sent) == [("invitation", 0, "email", "sent"),
                                        ("resend", 1, "email", "sent"),
                                        ("resend", 2, "email", "sent")]
    assert messages_of(world, waiting) == [("invitation", 0, "email", "sent")]
    assert (invitation(world, "RS-1").resends, invitation(world, "RS-2").resends) == (2, 1)
    assert invitation(world, "RS-2").delivery_kind == "resend"
    dispatch(world, clock(), settings, mailer)  # the copy waiting goes as resend 1
    assert messages_of(world, waiting)[-1] == ("resend", 1, "email", "sent")
    engine.dispose()
    command.downgrade(config, "0013")  # and back, as the workaround numbered them
    try:
        with engine.connect() as conn:
            assert conn.execute(text(
                "SELECT kind, sequence FROM messages WHERE invitation_id = :inv ORDER BY id"),
                {"inv": sent}).all() == [("invitation", -1), ("invitation", -2),
                                         ("invitation", 0)]
        engine.dispose()
    finally:
        command.upgrade(config, "head")
