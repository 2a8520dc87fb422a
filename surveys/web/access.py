"""Which studies a member of staff may see: the one check every route with a <slug> passes.

Admins see every study. A researcher or evaluator with rows in `user_studies` sees only
those studies; one with no rows sees every study (accounts from before per-study access
keep working as they did until an admin restricts them). A study someone may not see
answers exactly as a study that does not exist: 404, so its name is not confirmed.

`register(app)` enforces it for every route whose URL has a `slug` argument, before the
view runs, so a new route is covered without doing anything. Lists of studies filter
with `visible_studies(statement)`; `study_or_404(slug)` is the lookup for views.
"""

from __future__ import annotations

from flask import Flask, abort, g, render_template, request
from sqlalchemy import Select, insert, select

from surveys.models import Study, User
from surveys.models.user import user_studies
from surveys.web.auth import current_user
from surveys.web.context import db


def allowed_study_ids(user: User | None) -> frozenset[int] | None:
    """The ids of the studies `user` may see; None = every study (admins, unrestricted)."""
    if user is None or user.role == "admin":
        return None
    cache = g.setdefault("allowed_study_ids", {})
    if user.id not in cache:
        ids = frozenset(db().scalars(
            select(user_studies.c.study_id).where(user_studies.c.user_id == user.id)))
        cache[user.id] = ids or None
    return cache[user.id]


def may_see(study: Study, user: User | None = None) -> bool:
    allowed = allowed_study_ids(user or current_user())
    return allowed is None or study.id in allowed


def visible_studies(statement: Select) -> Select:
    """`statement` (selecting from Study) narrowed to the signed-in person's studies."""
    allowed = allowed_study_ids(current_user())
    return statement if allowed is None else statement.where(Study.id.in_(allowed))


def grant_study(session, user: User, slug: str) -> None:
    """Add a study to a limited account's list (a study they have just created)."""
    study_id = session.scalar(select(Study.id).where(Study.slug == slug))
    if study_id is not None:
        session.execute(insert(user_studies).values(user_id=user.id, study_id=study_id))
        g.pop("allowed_study_ids", None)


def study_or_404(slug: str) -> Study:
    study = db().scalar(visible_studies(select(Study).where(Study.slug == slug)))
    if study is None:
        abort(404)
    return study


def register(app: Flask) -> None:
    @app.before_request
    def only_allowed_studies():
        slug = (request.view_args or {}).get("slug")
        user = current_user() if slug is not None else None
        if user is None or allowed_study_ids(user) is None:
            return None  # not signed in: the view's role check sends them to sign in
        visible = db().scalar(visible_studies(select(Study.id).where(Study.slug == slug)))
        if visible is None:
            return render_template("pages/errors/not_found.html", code=404), 404
        return None
