"""The surveys service: a Flask app factory that only wires things together."""

from __future__ import annotations

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    from surveys.web.setup import configure

    app = Flask(__name__, instance_relative_config=True)
    configure(app, config or {})
    return app
