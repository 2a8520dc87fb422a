"""Error pages a person can act on; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("pages/errors/csrf.html"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        template = {
            404: "pages/errors/not_found.html",
            403: "pages/errors/forbidden.html",
            413: "pages/errors/too_large.html",
            429: "pages/errors/too_many.html",
        }.get(code, "pages/errors/generic.html")
        return render_template(template, code=code), code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error")
        return render_template("pages/errors/generic.html", code=500), 500
