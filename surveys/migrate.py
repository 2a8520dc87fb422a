"""Schema migrations with Alembic, driven from the `surveys db` commands."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from surveys.db import database_url


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    # ConfigParser treats % specially; URLs may contain it (encoded passwords).
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    command.upgrade(alembic_config(url), "head")


def revision(message: str, url: str | None = None) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)
