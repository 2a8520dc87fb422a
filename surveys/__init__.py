"""The surveys service: a Flask app factory that only wires things together."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Flask only when an app is made: `surveys --help` must start fast
    from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """The app. Settings come from config["SETTINGS"] or the environment; a setting that
    cannot work (surveys.settings.SettingsError) stops it here, before anything serves."""
    from surveys.settings import Settings

    config = dict(config or {})
    settings = config.get("SETTINGS") or Settings.from_env()

    from flask import Flask

    from surveys.web.setup import configure  # the web layer is heavy: after the settings
    config["SETTINGS"] = settings
    # One instance folder for Flask and the service (surveys/db.py), whatever the cwd.
    instance = str(settings.instance) if settings.instance else None
    app = Flask(__name__, instance_path=instance, instance_relative_config=True)
    configure(app, config)
    return app
