"""Request-scoped access to the database session, clock and settings."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g
from sqlalchemy.orm import Session

from surveys.settings import Settings


def db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["surveys.session_factory"]()
    return g.db


def now() -> datetime:
    return current_app.extensions["surveys.clock"]()


def settings() -> Settings:
    return current_app.extensions["surveys.settings"]
