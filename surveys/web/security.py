"""Security headers on every response, and a guard against input no field may hold."""

from __future__ import annotations

from flask import Flask, render_template, request

from surveys.web.context import settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


def _holds_nul(values) -> bool:
    return any("\x00" in key or any("\x00" in value for value in items)
               for key, items in values.lists())


def register(app: Flask) -> None:
    @app.before_request
    def refuse_nul_characters():
        """No name, answer or address ever holds a NUL character, and PostgreSQL text
        cannot store or compare one: refuse it with a message before any view sees it."""
        if "\x00" in request.path and not request.path.startswith("/r/"):
            # No page has such a name. (A personal link is only ever hashed, so /r/ shows
            # its own 'this link does not work' page and counts the guess.)
            return render_template("pages/errors/not_found.html", code=404), 404
        if _holds_nul(request.args) or (
            request.method not in ("GET", "HEAD") and _holds_nul(request.form)
        ):
            return render_template("pages/errors/bad_input.html", code=400), 400
        return None

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        # Behind a TLS-terminating proxy the request itself may look like plain HTTP.
        if request.is_secure or settings().base_url.startswith("https://"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        # Personal data and reports (pages, downloads and the JSON API): never cached.
        if request.path.startswith(("/r/", "/q/", "/staff", "/reports", "/api/")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
