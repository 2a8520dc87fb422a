"""Researchers define studies on the web: create, edit, upload or download a definition, and
preview the instruments a study uses. Every change goes through apply_definition, with the
checks and messages of `surveys study apply`, all or nothing, audited."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from instruments import InstrumentError, available_instruments, text
from instruments.model import AllOf, AnyOf, Equals, In, Includes
from surveys.models import InstrumentSource, Response, Study, Wave
from surveys.studies.apply import apply_definition
from surveys.studies.apply import is_path as is_instrument_path
from surveys.studies.definition import (
    DefinitionError,
    check_definition,
    definition_of,
    read_definition,
    write_definition,
)
from surveys.studies.instruments import instrument as load_version
from surveys.studies.instruments import kept_versions
from surveys.web.access import allowed_study_ids, grant_study, may_see
from surveys.web.auth import current_user, roles_required
from surveys.web.context import db, now
from surveys.web.downloads import download
from surveys.web.forms import page_form
from surveys.web.study_forms import (
    DefinitionUploadForm,
    StudyForm,
    add_blank_rows,
    definition_document,
    form_data,
)

bp = Blueprint("studies", __name__, url_prefix="/staff")

RESEARCH = ("admin", "researcher")
LANGUAGE_NAMES = {"en": _l("English"), "cy": _l("Welsh")}


def _study(slug: str) -> Study:
    return db().scalar(select(Study).where(Study.slug == slug)) or abort(404)


def _instrument_choices() -> list[SelectChoice]:
    """Client instruments a wave may use: the shipped ones and those kept from files."""
    choices = [SelectChoice("", _("Choose an instrument"))]
    for name in available_instruments():
        try:
            shipped = load_version(db(), name)
        except InstrumentError:
            continue
        if shipped.audience == "client":
            choices.append(SelectChoice(name, _("%(name)s (shipped, version %(version)s)",
                                                name=name, version=shipped.version)))
    for name in db().scalars(select(InstrumentSource.name).distinct()
                             .order_by(InstrumentSource.name)):
        versions = ", ".join(kept_versions(db(), name))
        choices.append(SelectChoice(name, _("%(name)s (kept, versions %(versions)s)",
                                            name=name, versions=versions)))
    return choices


def _apply(document: dict, uploads: dict, problems: list[str]):
    """(ApplyResult, []) once committed; (None, problems) with nothing changed."""
    try:
        definition = check_definition(document)
    except DefinitionError as error:
        problems = problems + error.problems
        definition = None
    if problems:
        return None, problems
    return _apply_definition(definition, uploads)


def _apply_definition(definition, uploads: dict):
    existing = db().scalar(select(Study).where(Study.slug == definition.slug))
    if existing is not None and not may_see(existing):  # per-study access (web/access.py)
        return None, [f"slug: there is already a study called '{definition.slug}'; "
                      "choose another"]
    try:
        result = apply_definition(db(), definition, now=now(), user=current_user(),
                                  actor="web", uploads=uploads)
    except DefinitionError as error:
        db().rollback()
        return None, error.problems
    if existing is None and allowed_study_ids(current_user()) is not None:
        # Someone limited to some studies sees the study they create.
        grant_study(db(), current_user(), definition.slug)
    db().commit()
    return result, []


def _saved(result):
    flash(_("Study created.") if result.created else _("Study saved."))
    for change in result.changes:
        flash(change)
    return redirect(url_for("studies.study", slug=result.slug))


def _form_page(form: StudyForm, study: Study | None, problems: list[str]):
    if study is None:  # a new study: room for a typical design in one go
        add_blank_rows(form, measures=4, waves=3)
    else:
        add_blank_rows(form)
    choices = _instrument_choices()
    for row in form.waves:  # every row, the blank ones just added too
        row.form.instrument.choices = choices
    return render_template("pages/staff/study_form.html", form=form, study=study,
                           problems=problems), (400 if problems else 200)


@bp.route("/create-study", methods=["GET", "POST"])
@roles_required(*RESEARCH)
def create():
    form = StudyForm()
    if not form.is_submitted():
        form = StudyForm(data={"languages": ["en", "cy"], "disclosure_threshold": "7"})
        return _form_page(form, None, [])
    slug = (form.slug.data or "").strip()
    document, uploads, problems = definition_document(form, slug)
    if db().scalar(select(Study.id).where(Study.slug == slug)) is not None:
        problems.insert(0, f"slug: there is already a study called '{slug}'; choose another")
    result, problems = _apply(document, uploads, problems)
    if result is None:
        return _form_page(form, None, problems)
    return _saved(result)


@bp.route("/studies/<slug>/edit", methods=["GET", "POST"])
@roles_required(*RESEARCH)
def edit(slug: str):
    study = _study(slug)
    form = StudyForm()
    if not form.is_submitted():
        return _form_page(StudyForm(data=form_data(definition_of(study))), study, [])
    document, uploads, problems = definition_document(form, study.slug)
    result, problems = _apply(document, uploads, problems)
    if result is None:
        return _form_page(form, _study(slug), problems)
    return _saved(result)


@bp.route("/upload-study", methods=["GET", "POST"])
@roles_required(*RESEARCH)
def upload():
    """`study apply` with a file: instruments are shipped or kept names (no folder here)."""
    form = DefinitionUploadForm()
    problems: list[str] = []
    if form.is_submitted():
        problems, result = _apply_upload(form)
        if result is not None:
            return _saved(result)
    return render_template("pages/staff/study_upload.html", form=form,
                           problems=problems), (400 if problems else 200)


def _apply_upload(form: DefinitionUploadForm):
    file = form.definition.data
    if file is None or not getattr(file, "filename", ""):
        return [_("Select a study definition file")], None
    try:
        source = file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [_("%(file)s: the file is not UTF-8 text", file=file.filename)], None
    try:
        definition = read_definition(source)
    except DefinitionError as error:
        return error.problems, None
    paths = [f"wave {w.code}.instrument: '{w.instrument}' is a path to a file, and an "
             "uploaded definition has no folder to read it from; name a shipped or kept "
             "instrument, or upload the instrument file on the study's edit page"
             for w in definition.waves if is_instrument_path(w.instrument)]
    if paths:
        return paths, None
    result, problems = _apply_definition(definition, {})
    return problems, result


@bp.route("/studies/<slug>")
@roles_required(*RESEARCH)
def study(slug: str):
    study = _study(slug)
    used = _versions_used(study)
    return render_template("pages/staff/study.html", study=study, used=used,
                           wave_versions={w.code: _wave_version(w) for w in study.waves},
                           language_names=LANGUAGE_NAMES)


@bp.route("/studies/<slug>/definition.yaml")
@roles_required(*RESEARCH)
def definition(slug: str):
    study = _study(slug)
    return download(write_definition(study), "application/yaml", f"study-{study.slug}.yaml")


def _wave_version(wave: Wave) -> str | None:
    try:
        return load_version(db(), wave.instrument, wave.instrument_version).version
    except (InstrumentError, LookupError):
        return None


def _versions_used(study: Study) -> list[tuple[str, str]]:
    """(instrument, version) pairs the study's waves issue or its responses answered."""
    pairs = {(w.instrument, _wave_version(w)) for w in study.waves}
    pairs |= set(db().execute(
        select(Response.instrument, Response.instrument_version).distinct()
        .join(Wave, Wave.id == Response.wave_id).where(Wave.study_id == study.id)).all())
    return sorted((str(name), str(version)) for name, version in pairs if version is not None)


@bp.route("/studies/<slug>/instruments/<name>")
@roles_required(*RESEARCH)
def preview(slug: str, name: str):
    """An instrument version the study uses, page by page, as a client would see it."""
    study = _study(slug)
    used = _versions_used(study)
    versions = [v for n, v in used if n == name]
    if not versions:
        abort(404)
    version = request.args.get("version") or next(
        (_wave_version(w) for w in study.waves if w.instrument == name), versions[-1])
    if version not in versions:
        abort(404)
    languages = list(study.languages or ["en"])
    language = request.args.get("language")
    language = language if language in languages else languages[0]
    try:
        instrument = load_version(db(), name, version)
    except (InstrumentError, LookupError):
        abort(404)
    shown_if = _("Shown only if:")  # in the researcher's language, not the preview's
    with force_locale(language):
        body = render_template("components/instrument_preview.html", instrument=instrument,
                               language=language, text=text, form_for=page_form,
                               condition=describe_condition, condition_label=shown_if)
    return render_template("pages/staff/instrument_preview.html", study=study,
                           instrument=instrument, language=language, languages=languages,
                           language_names=LANGUAGE_NAMES, versions=versions,
                           body=Markup(body))


def describe_condition(condition) -> str:
    """A routing condition in short, for researchers: 'read_plan = yes'."""
    if isinstance(condition, Equals):
        return f"{condition.question} = {condition.value}"
    if isinstance(condition, In):
        return f"{condition.question} in ({', '.join(map(str, condition.values))})"
    if isinstance(condition, Includes):
        return f"{condition.question} includes {condition.value}"
    if isinstance(condition, AllOf | AnyOf):
        joiner = " and " if isinstance(condition, AllOf) else " or "
        return "(" + joiner.join(describe_condition(c) for c in condition.conditions) + ")"
    return str(condition)
