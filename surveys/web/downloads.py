"""What every file download of the staff and report pages shares."""

from __future__ import annotations

from flask import Response, abort

from surveys.models import Study, Wave
from surveys.studies import StudyNotFound, wave_by_code


def download(body: str | bytes, mimetype: str, filename: str) -> Response:
    """The body as an attachment named `filename` (names are built from slugs and codes)."""
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def wave_or_404(study: Study, code: str) -> Wave:
    try:
        return wave_by_code(study, code)
    except StudyNotFound:
        abort(404)
