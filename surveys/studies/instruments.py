"""Instruments a study uses: the shipped ones, and files given with a study, kept here.

A file given to `study apply` (or uploaded on the study page) is read once and kept in
instrument_sources by (name, version), never changed afterwards, so a study never depends
on files on the server and a response's (instrument, instrument_version) always loads
the questionnaire it answered. Shipped instruments stay in instruments/definitions.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import (
    Instrument,
    InstrumentError,
    InstrumentNotFound,
    load_instrument,
    load_text,
)
from instruments.loader import default_library
from surveys.models import InstrumentSource, Wave

# Kept versions never change, so each is parsed once per process.
_parsed: dict[tuple[str, str], Instrument] = {}


class InstrumentRefused(ValueError):
    """A file that cannot be kept, with a one-line reason."""


def is_shipped(name: str) -> bool:
    return default_library().has(name)


def check_languages(instrument: Instrument, source: str | None, languages: list[str],
                    label: str) -> None:
    """Refuse an instrument lacking a text in one of the study's languages (shipped ones have
    English and Welsh; a kept one is checked again from its text)."""
    if source is None:
        return
    try:
        load_text(source, label, languages)
    except InstrumentError as error:
        raise InstrumentRefused(str(error).splitlines()[0]) from None


def keep(session: Session, source: str, label: str, languages: list[str],
         now: datetime) -> tuple[Instrument, bool]:
    """Check an instrument file and keep it; (instrument, whether it was new).

    Refused: a file that does not load, lacks a text in one of the study's languages, takes
    a shipped instrument's name, or reuses a kept (name, version) with other content.
    """
    try:
        instrument = load_text(source, label, languages)
    except InstrumentError as error:
        raise InstrumentRefused(str(error).splitlines()[0]) from None
    if is_shipped(instrument.name):
        raise InstrumentRefused(
            f"{label}: '{instrument.name}' is the name of a shipped instrument; give your "
            "instrument its own name"
        )
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    kept = session.scalar(select(InstrumentSource).where(
        InstrumentSource.name == instrument.name, InstrumentSource.version == instrument.version))
    if kept is not None:
        if kept.sha256 != digest:
            raise InstrumentRefused(
                f"{label}: {instrument.name} version {instrument.version!r} is already kept "
                "with different content; a changed instrument needs a new version"
            )
        return instrument, False
    session.add(InstrumentSource(name=instrument.name, version=instrument.version,
                                 source=source, sha256=digest, stored_at=now))
    session.flush()
    return instrument, True


def kept_versions(session: Session, name: str) -> list[str]:
    return list(session.scalars(select(InstrumentSource.version)
                                .where(InstrumentSource.name == name)
                                .order_by(InstrumentSource.id)))


def instrument(session: Session, name: str, version: str | None = None) -> Instrument:
    """A shipped or kept instrument: the version asked for, else the current one."""
    if is_shipped(name):
        return load_instrument(name, version)
    if version is None:
        versions = kept_versions(session, name)
        if not versions:
            raise InstrumentNotFound(f"no instrument called {name!r}")
        version = versions[-1]
    key = (name, version)
    if key not in _parsed:
        source = session.scalar(select(InstrumentSource.source).where(
            InstrumentSource.name == name, InstrumentSource.version == version))
        if source is None:
            raise InstrumentNotFound(f"{name} has no version {version!r}")
        # Checked for its study's languages when it was kept: English is all it must have.
        _parsed[key] = load_text(source, f"{name} {version}", ("en",))
    return _parsed[key]


def kept_source(session: Session, name: str, version: str) -> str | None:
    return session.scalar(select(InstrumentSource.source).where(
        InstrumentSource.name == name, InstrumentSource.version == version))


def wave_instrument(session: Session, wave: Wave) -> Instrument:
    """The questionnaire a wave issues now."""
    return instrument(session, wave.instrument, wave.instrument_version)
