"""Where the service keeps its files and which database it uses, without importing SQLAlchemy.

Split from surveys/db.py (which re-exports both) so settings can be checked before any
heavy import: `surveys --help` checks them and must start fast (issue 16, item 5).
"""

from __future__ import annotations

import os
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


def instance_dir() -> Path:
    """The instance folder (secret key, embedded database, outbox), never the working directory.

    SURVEYS_INSTANCE_DIR (SURVEYS_INSTANCE_PATH is its older name), else `instance/` of the
    source checkout the package runs from, else a per-user data folder. A fixed place,
    because personal links are derived from the secret kept there: a command run from
    another folder must find the same one.
    """
    chosen = os.environ.get("SURVEYS_INSTANCE_DIR") or os.environ.get("SURVEYS_INSTANCE_PATH")
    if chosen:
        return Path(chosen).expanduser().absolute()
    if (CHECKOUT / "pyproject.toml").is_file():
        return CHECKOUT / "instance"
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home).expanduser().absolute() / "surveys"


def database_url() -> str:
    """The URL from SURVEYS_DATABASE_URL, else an embedded SQLite file in the instance folder."""
    url = os.environ.get("SURVEYS_DATABASE_URL")
    if url:
        return url
    instance = instance_dir()
    instance.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance / 'surveys.sqlite3'}"
