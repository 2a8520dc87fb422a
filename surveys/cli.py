"""The `surveys` command line (contracts section 1), also reachable as `flask --app surveys`.

Every command commits once at the end; bad input ends with a one-line reason
on stderr and a non-zero exit, never a traceback.

Start-up is fast (issue 16): this module imports only click. Each command imports what it
needs when it runs; the console script checks the settings' syntax before anything (even
`--help`), and a command opens the database (full settings check) and, only for serving or
HTML, the Flask web app.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

study_option = click.option(
    "--study", "study_slug", default=None, metavar="SLUG",
    help="Study to use (default: the first study created).",
)


class _Deferred:
    """A module imported on first use (`audit.record(...)` reads as an import would)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


audit = _Deferred("surveys.audit")
_studies = _Deferred("surveys.studies")


def resolve_study(session, slug: str | None, *, create: bool = False):
    return _studies.resolve_study(session, slug, create=create)


def wave_by_code(study, code: str):
    return _studies.wave_by_code(study, code)


def default_follow_up(study) -> str:
    return _studies.default_follow_up(study)


_EXTENSIONS = "surveys.extensions"
_WEB_APP = "surveys.web_app"


def _flask_app():
    """The Flask app this command runs in under `flask --app surveys` (or a test's CLI
    runner), else None. Flask is imported by then if there is one."""
    flask = sys.modules.get("flask")
    if flask is None:
        return None
    if flask.has_app_context():
        return flask.current_app._get_current_object()
    flask_cli = sys.modules.get("flask.cli")
    ctx = click.get_current_context()
    info = ctx.find_object(flask_cli.ScriptInfo) if flask_cli else None
    if info is None:
        return None
    app = info.load_app()
    ctx.with_resource(app.app_context())  # as flask.cli.with_appcontext does
    return app


def _extensions() -> dict:
    """What commands use, under the keys of the web app's `app.extensions`: the app's own
    when there is an app, else made once per command without the web app."""
    app = _flask_app()
    if app is not None:
        return app.extensions
    root = click.get_current_context().find_root()
    if _EXTENSIONS not in root.meta:
        from surveys.clock import system_clock
        from surveys.db import make_engine, make_session_factory
        from surveys.invitations.mailer import OutboxMailer, SmtpMailer
        from surveys.settings import Settings

        settings = Settings.from_env()  # SettingsError: one line, as the app would say
        engine = make_engine(settings.database_url)
        root.call_on_close(engine.dispose)
        root.meta[_EXTENSIONS] = {  # as surveys/web/setup.py `configure` makes them
            "surveys.settings": settings,
            "surveys.engine": engine,
            "surveys.session_factory": make_session_factory(engine),
            "surveys.clock": system_clock,
            "surveys.mailer": (SmtpMailer(settings.smtp_host, settings.smtp_port)
                               if settings.smtp_host else OutboxMailer(settings.outbox)),
        }
    return root.meta[_EXTENSIONS]


def _web_app():
    """The Flask app, for serving and for HTML (templates, Babel): the running one, else
    made now with this command's settings and engine, its app context pushed."""
    app = _flask_app()
    if app is None:
        ext = _extensions()
        root = click.get_current_context().find_root()
        from surveys import create_app

        app = create_app({"SETTINGS": ext["surveys.settings"], "ENGINE": ext["surveys.engine"],
                          "CLOCK": ext["surveys.clock"], "MAILER": ext["surveys.mailer"]})
        root.with_resource(app.app_context())
    return app


def _session():
    return _extensions()["surveys.session_factory"]()


def _now():
    return _extensions()["surveys.clock"]()


def _loaded(*names: str) -> tuple[type, ...]:
    """The classes named "module:Class" whose module is imported. An exception can only be
    an instance of a loaded class, so checking these imports nothing."""
    found = []
    for name in names:
        module, _, attr = name.partition(":")
        cls = getattr(sys.modules.get(module), attr, None)
        if cls is not None:
            found.append(cls)
    return tuple(found)


def friendly_errors(command):
    """Turn the errors a user can cause into a one-line message and exit status 1."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            # Classes from modules the command imported (nothing is imported to check).
            # An import's full list of bad rows helps more than one line; it says it all.
            if isinstance(exc, _loaded("surveys.cohort.importer:ImportRejected",
                                       "surveys.csv_rows:CsvFileError",
                                       "surveys.studies:StudyNotFound",
                                       "surveys.accounts:AccountError")):
                raise click.ClickException(str(exc)) from None
            if isinstance(exc, _loaded("sqlalchemy.exc:OperationalError",
                                       "sqlalchemy.exc:ProgrammingError")):
                text = str(exc.orig) if exc.orig else str(exc)
                if "no such table" in text or "does not exist" in text:
                    raise click.ClickException(
                        "The database has no schema yet: run `surveys db upgrade` first."
                    ) from None
                raise click.ClickException(f"Database error: {text.splitlines()[0]}") from None
            if isinstance(exc, OSError):
                raise click.ClickException(
                    f"{exc.strerror or exc}: {exc.filename or ''}") from None
            # A fault of ours, not of the input: one line for the user, the traceback
            # kept for whoever fixes it.
            log = _log_traceback()
            raise click.ClickException(
                f"Unexpected error ({type(exc).__name__}), a fault in the service, not in "
                f"your input. Details for the developers: {log}"
            ) from None

    return wrapped


def _log_traceback() -> str:
    import traceback
    from datetime import UTC, datetime

    flask = sys.modules.get("flask")
    if flask is not None and flask.has_app_context():
        folder = Path(flask.current_app.instance_path)
    else:
        from surveys.instance import instance_dir

        folder = instance_dir()  # what Settings.instance is without an app
    path = folder / "cli-errors.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(f"--- {datetime.now(UTC).isoformat()}\n{traceback.format_exc()}\n")
    except OSError:
        return "(could not write the error log)"
    return str(path)


db_group = click.Group("db", help="Create or migrate the database schema.")


@db_group.command("upgrade")
@friendly_errors
def db_upgrade():
    """Create or migrate the schema to the latest version (safe to run twice)."""
    from surveys.migrate import upgrade

    upgrade(_extensions()["surveys.settings"].database_url)
    click.echo("Database schema is up to date.")


@click.command("import-cohort")
@click.option("--participants", "participants", required=True, type=click.Path(dir_okay=False),
              help="participants.csv (contracts section 2)")
@click.option("--appointments", "appointments", type=click.Path(dir_okay=False),
              help="appointments.csv (optional)")
@study_option
@friendly_errors
def import_cohort_command(participants: str, appointments: str | None, study_slug: str | None):
    """Load clients who completed the intervention, with their stored scores."""
    from surveys.cohort.importer import import_cohort

    with _session() as session:
        study = resolve_study(session, study_slug, create=True)
        result = import_cohort(
            # Paths, not contents: the import streams the files with bounded memory.
            session, study, Path(participants), Path(appointments) if appointments else None,
            participants_name=Path(participants).name,
            appointments_name=Path(appointments).name if appointments else "appointments.csv",
            today=_now().date(),
        )
        audit.record(session, _now(), None, "cohort_import", actor="cli", study=study.slug,
                     created=result.created, updated=result.updated)
        session.commit()
    click.echo(
        f"Imported into study '{study.slug}': {result.created} new and {result.updated} updated "
        f"participants, {result.appointments} appointments, "
        f"{result.invitations_scheduled} questionnaires scheduled."
    )


@click.command("import-responses")
@click.option("--wave", required=True, help="Wave code, e.g. wave2")
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--confirm-not-due", is_flag=True,
              help="Store rows for questionnaires not issued yet (e.g. a paused wave).")
@study_option
@friendly_errors
def import_responses_command(wave: str, responses: str, study_slug: str | None,
                             confirm_not_due: bool = False):
    """Load answers collected outside the web forms (e.g. by telephone)."""
    from surveys.responses.importer import NotYetDue, import_responses

    with _session() as session:
        study = resolve_study(session, study_slug)
        # A path, not contents: the import streams the file with bounded memory.
        try:
            result = import_responses(session, study, wave_by_code(study, wave),
                                      Path(responses), filename=Path(responses).name,
                                      today=_now().date(), confirm_not_due=confirm_not_due)
        except NotYetDue as exc:
            shown = ", ".join(exc.refs[:10]) + (", ..." if len(exc.refs) > 10 else "")
            raise click.ClickException(
                (f"1 row is for a {wave} questionnaire" if len(exc.refs) == 1 else
                 f"{len(exc.refs)} rows are for {wave} questionnaires") +
                f" not yet due ({shown}); "
                "nothing was imported. Add --confirm-not-due to import them anyway.") from None
        audit.record(session, _now(), None, "response_import", actor="cli", study=study.slug,
                     wave=wave, stored=result.stored, already_stored=result.already_stored,
                     drafts_replaced=list(result.drafts_replaced))
        session.commit()
    click.echo(f"Stored {result.stored} {wave} responses: {result.linked} linked, "
               f"{result.unlinked} could not be linked to a participant.")
    if result.already_stored:
        click.echo(f"{result.already_stored} rows were already stored and were skipped.")
    if result.drafts_replaced:
        click.echo(f"Unfinished online answers replaced by the imported ones for: "
                   f"{', '.join(result.drafts_replaced)}.")


report_group = click.Group("report", help="Reports for evaluators.")


def _cached_report(session, study, name: str, options: dict, build):
    """build(), or the copy kept in the instance's report cache (the files the web app
    shares, surveys/reports/cache.py) while the study's data has not changed."""
    import hashlib

    from surveys.instance import instance_dir
    from surveys.reports.cache import ReportCache, data_version

    version = data_version(session, study.id)
    if version is None:
        return build()
    settings = _extensions()["surveys.settings"]
    digest = hashlib.sha256(settings.database_url.encode()).hexdigest()[:16]
    cache = ReportCache(folder=(settings.instance or instance_dir()) / "report-cache" / digest)
    # "cli": exact figures, as researchers see them, but never confused with a web viewer's.
    key = (study.id, name, tuple(sorted(options.items())), "cli", options["language"], version)
    report = cache.get(key)
    return cache.build(key, build) if report is None else report


@report_group.command("paired")
@click.option("--follow-up", "follow_up", default=None,
              help="Wave code, e.g. wave2 (default: the study's last wave)")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="json",
              show_default=True)
@click.option("--lang", type=click.Choice(["en", "cy"]), default="en", show_default=True)
@study_option
@friendly_errors
def report_paired(follow_up: str | None, fmt: str, lang: str, study_slug: str | None):
    """The paired-change report on stdout."""
    from surveys.reports.paired_change import paired_report, render_csv, render_html

    with _session() as session:
        study = resolve_study(session, study_slug)
        follow_up = follow_up or default_follow_up(study)
        wave_by_code(study, follow_up)
        report = _cached_report(
            session, study, "paired", {"follow_up": follow_up, "language": lang,
                                       "publication": False, "breakdown": None},
            lambda: paired_report(session, study, follow_up, language=lang))
        audit.record(session, _now(), None, "report_view", actor="cli", study=study.slug,
                     report="paired", follow_up=follow_up, format=fmt)
        session.commit()
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        sys.stdout.write(render_csv(report))
    else:
        _web_app()  # HTML comes from the web app's templates
        click.echo(render_html(report, lang))


@report_group.command("comparison")
@click.option("--study", "study_slug", required=True, metavar="SLUG", help="Study with arms")
@click.option("--follow-up", "follow_up", default=None,
              help="Wave code (default: the study's last wave)")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True)
@click.option("--lang", type=click.Choice(["en", "cy"]), default="en", show_default=True)
@friendly_errors
def report_comparison(study_slug: str, follow_up: str | None, fmt: str, lang: str):
    """The first arm against the second, measure by measure, on stdout."""
    from surveys.reports.arms import comparison_report, render_comparison_csv
    from surveys.reports.paired_change import paired_report

    with _session() as session:
        study = resolve_study(session, study_slug)
        if len(study.arms or ()) < 2:
            raise click.ClickException(
                f"study {study.slug} has no arms to compare: add `arms:` to its definition "
                f"and an `arm` column to its cohort file.")
        follow_up = follow_up or default_follow_up(study)
        wave_by_code(study, follow_up)
        report = paired_report(session, study, follow_up, language=lang)
        audit.record(session, _now(), None, "report_view", actor="cli", study=study.slug,
                     report="comparison", follow_up=follow_up, format=fmt)
        session.commit()
    if fmt == "json":
        click.echo(json.dumps(comparison_report(report), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_comparison_csv(report))


@report_group.command("check-counts")
@click.option("--repair", is_flag=True,
              help="Recount from the rows every study whose kept counts differ")
@study_option
@friendly_errors
def report_check_counts(repair: bool, study_slug: str | None):
    """Check the counts PostgreSQL keeps for reports against a count from the rows."""
    from sqlalchemy import select

    from surveys.models import Study
    from surveys.reports import kept

    with _session() as session:
        if session.get_bind().dialect.name != "postgresql":
            click.echo("This database counts every report from its rows: "
                       "there are no kept counts to check.")
            return
        studies = ([resolve_study(session, study_slug)] if study_slug else
                   list(session.scalars(select(Study).order_by(Study.slug))))
        wrong = 0
        for study in studies:
            differ, figures = kept.check(session, study)
            if not differ:
                click.echo(f"{study.slug}: all {figures:,} kept figures agree with the rows.")
                session.rollback()
                continue
            wrong += 1
            if repair:
                session.commit()
                click.echo(f"{study.slug}: {differ:,} of {figures:,} kept figures differed "
                           "from the rows; recounted.")
            else:
                session.rollback()
                click.echo(f"{study.slug}: {differ:,} of {figures:,} kept figures differ from "
                           "the rows; run again with --repair to recount them.")
        if wrong and not repair:
            sys.exit(1)


@report_group.command("evaluation")
@click.option("--follow-up", "follow_up", default=None,
              help="Wave code for paired change (default: the study's last wave, e.g. wave2)")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "html", "xlsx", "ods"]),
              default="json", show_default=True)
@click.option("--output", "output", type=click.Path(dir_okay=False),
              help="Write to this file instead of stdout (xlsx and ods go to a file or a pipe)")
@click.option("--publication", is_flag=True,
              help="Apply the study's disclosure rule (for anything shared outside the study)")
@click.option("--breakdown",
              type=click.Choice(["site", "channel", "language", "appointments", "arm"]),
              default=None, help="Break every table down by this (arm: studies with arms)")
@click.option("--lang", type=click.Choice(["en", "cy"]), default="en", show_default=True)
@study_option
@friendly_errors
def report_evaluation(follow_up: str | None, fmt: str, output: str | None, publication: bool,
                      breakdown: str | None, lang: str, study_slug: str | None):
    """Every table of the evaluation (referrals to paired change) on stdout or to a file."""
    if output is None and fmt in ("xlsx", "ods") and sys.stdout.isatty():
        raise click.ClickException("A spreadsheet is binary: give --output FILE.")
    with _session() as session:
        study = resolve_study(session, study_slug)
        follow_up = follow_up or default_follow_up(study)
        wave_by_code(study, follow_up)
        report = _cached_report(
            session, study, "evaluation", {"follow_up": follow_up, "language": lang,
                                           "publication": publication, "breakdown": breakdown},
            lambda: _evaluation_report(session, study, follow_up=follow_up, language=lang,
                                       publication=publication, breakdown=breakdown))
        # Each format imports its own renderer: a cached report needs no statistics.
        if fmt in ("xlsx", "ods"):
            from surveys.responses.codebook import spreadsheet_sheets

            if fmt == "xlsx":
                from surveys.reports.export import render_xlsx as render
            else:
                from surveys.reports.export_ods import render_ods as render
            codebook = spreadsheet_sheets(session, study, report["language"])
            body: str | bytes = render(report, codebook)
        elif fmt == "json":
            body = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        elif fmt == "csv":
            from surveys.reports.export import render_csv as evaluation_csv

            body = evaluation_csv(report)
        else:
            from surveys.reports import render_html as evaluation_html

            _web_app()  # HTML comes from the web app's templates
            body = evaluation_html(report) + "\n"
        # Written before the audit record: a file that could not be written was not exported.
        if output:
            _write_export(body if isinstance(body, bytes) else body.encode("utf-8"), fmt,
                          output)
        audit.record(session, _now(), None, "report_view", actor="cli", study=study.slug,
                     report="evaluation", follow_up=follow_up, format=fmt,
                     publication=publication, breakdown=breakdown)
        session.commit()
    if output:
        click.echo(f"Wrote the {fmt} evaluation report of study '{study.slug}' to {output}.")
    elif isinstance(body, bytes):
        sys.stdout.buffer.write(body)
    else:
        sys.stdout.write(body)


def _evaluation_report(session, study, **options) -> dict:
    """Computed (a cache miss): only now are the report's queries and statistics loaded."""
    from surveys.reports.evaluation import evaluation_report

    return evaluation_report(session, study, **options)


@click.command("import-referrals")
@click.argument("referrals", type=click.Path(dir_okay=False))
@study_option
@friendly_errors
def import_referrals_command(referrals: str, study_slug: str | None):
    """Load referral management information per site (referrals.csv, see README)."""
    from surveys.cohort.referrals import import_referrals

    with _session() as session:
        study = resolve_study(session, study_slug, create=True)
        result = import_referrals(session, study, Path(referrals),
                                  filename=Path(referrals).name)
        audit.record(session, _now(), None, "referral_import", actor="cli", study=study.slug,
                     created=result.created, updated=result.updated)
        session.commit()
    click.echo(f"Imported referral figures into study '{study.slug}': {result.created} new and "
               f"{result.updated} updated sites.")


@click.command("links")
@click.option("--wave", required=True, help="Wave code, e.g. wave1")
@study_option
@friendly_errors
def links(wave: str, study_slug: str | None):
    """participant_ref,url for every issued, unanswered invitation of a wave (CSV)."""
    import csv

    from sqlalchemy import select

    from surveys.invitations import link_for, open_links
    from surveys.models import Study
    from surveys.studies import StudyNotFound

    settings = _extensions()["surveys.settings"]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    with _session() as session:
        # Without --study, every study's open links: telephoning researchers want them all.
        studies = ([resolve_study(session, study_slug)] if study_slug
                   else session.scalars(select(Study).order_by(Study.id)).all())
        if not studies:
            raise StudyNotFound("There is no study yet: import a cohort or run `surveys demo`.")
        matched = [s for s in studies if any(w.code == wave for w in s.waves)]
        if not matched:
            wave_by_code(studies[0], wave)
        writer.writerow(["participant_ref", "url"])
        listed = 0
        for study in matched:
            for inv in open_links(session, study, wave_by_code(study, wave)):
                writer.writerow([inv.participant.ref,
                                 link_for(settings.base_url, settings.secret_key, inv)])
                listed += 1
        audit.record(session, _now(), None, "export", actor="cli", report="links", wave=wave,
                     studies=[s.slug for s in matched], rows=listed)
        session.commit()


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when studies exist already.")
@friendly_errors
def demo(if_empty: bool):
    """Load the synthetic demo cohort (published figures) into an empty database."""
    from surveys.demo.load import DemoNotEmpty, load_demo

    with _session() as session:
        try:
            summary = load_demo(session, _now(), _extensions()["surveys.settings"],
                                _extensions()["surveys.mailer"])
        except DemoNotEmpty as exc:
            if if_empty:
                click.echo("The database already holds studies; the demo was not loaded again.")
                return
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(summary)


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--role", required=True,
              type=click.Choice(["admin", "researcher", "evaluator", "interviewer"]))
@click.option("--password", envvar="SURVEYS_NEW_PASSWORD", prompt=True, hide_input=True,
              confirmation_prompt=True,
              help="Prompted for when not given (or SURVEYS_NEW_PASSWORD)")
@friendly_errors
def create_user_command(email: str, role: str, password: str):
    """Create a staff account."""
    from surveys.accounts import create_user

    with _session() as session:
        user = create_user(session, email, password, role)
        audit.record(session, _now(), None, "account_created", actor="cli", email=user.email,
                     role=role)
        session.commit()
    click.echo(f"Created {role} account for {user.email}.")


@click.command("dispatch")
@friendly_errors
def dispatch_once():
    """Run one dispatcher pass now (issue due questionnaires, send email, close old links)."""
    from scheduler.jobs import dispatch

    ext = _extensions()
    report = dispatch(ext["surveys.session_factory"], _now(), ext["surveys.settings"],
                      ext["surveys.mailer"])
    click.echo(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in vars(report).items()))


@click.command("scheduler")
@friendly_errors
def scheduler_only():
    """Run the dispatcher on its schedule without the web app (production: one or more)."""
    from scheduler.runner import make_scheduler

    ext = _extensions()
    click.echo(f"Dispatcher running every {ext['surveys.settings'].dispatch_interval} s; "
               "press Ctrl+C to stop.")
    dispatcher = make_scheduler(ext["surveys.session_factory"], ext["surveys.clock"],
                                ext["surveys.settings"], ext["surveys.mailer"])
    stop = _stop_on_signals()
    dispatcher.start()  # in its own thread: this one only waits for a signal
    while not stop.wait(0.5):
        pass
    _stop_dispatcher(dispatcher)


def _stop_on_signals():
    """An event set by Ctrl+C (SIGINT) or a service manager's SIGTERM. Not left to
    KeyboardInterrupt: APScheduler catches any exception raised while it submits a job, so
    an interrupt landing there was swallowed and the process ran on."""
    import signal
    import threading

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _stop_dispatcher(dispatcher) -> None:
    """End promptly on Ctrl+C or a service manager's signal: the pass in hand stops after
    its current transaction. One that cannot (a hung mail server) is abandoned after a
    grace period, with a non-zero exit, rather than holding the process open."""
    if not dispatcher.stop():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@friendly_errors
def run(host: str, port: int, threads: int):
    """Serve the web app and run the scheduler in one process."""
    from waitress import create_server

    from scheduler.runner import make_scheduler

    app = _web_app()
    ext = app.extensions
    if not os.environ.get("SURVEYS_BASE_URL"):
        # Links in emails should point at the address actually served.
        ext["surveys.settings"].base_url = f"http://{host}:{port}"
    dispatcher = make_scheduler(ext["surveys.session_factory"], ext["surveys.clock"],
                                ext["surveys.settings"], ext["surveys.mailer"])
    server = create_server(app, host=host, port=port, threads=threads)
    from surveys.heap import freeze_startup_objects

    freeze_startup_objects()
    dispatcher.start()
    click.echo(f"Surveys service running at http://{host}:{port}/ (press Ctrl+C to stop)")
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        _stop_dispatcher(dispatcher)
        ext["surveys.engine"].dispose()


@click.command("erase-participant")
@click.option("--ref", "ref", required=True, help="The participant_ref to erase")
@click.option("--delete-responses", is_flag=True,
              help="Delete their submitted responses too (by default they are kept, "
                   "anonymous and unlinked, without free-text answers).")
@study_option
@friendly_errors
def erase_participant_command(ref: str, delete_responses: bool, study_slug: str | None):
    """Erase one participant on request and print what was removed (see surveys/privacy.py)."""
    from scheduler.jobs import message_id_for
    from surveys.invitations.mailer import OutboxMailer
    from surveys.privacy import (
        ParticipantNotFound,
        erase_outbox_copies,
        erase_participant,
        ref_digest,
    )

    settings = _extensions()["surveys.settings"]
    mailer = _extensions()["surveys.mailer"]
    with _session() as session:
        study = resolve_study(session, study_slug)
        try:
            report = erase_participant(session, study, ref, delete_responses=delete_responses)
        except ParticipantNotFound as exc:
            raise click.ClickException(str(exc)) from None
        if isinstance(mailer, OutboxMailer):
            # Embedded mode keeps every email as a file: those copies hold the address too.
            erase_outbox_copies(
                mailer, report, functools.partial(message_id_for, settings.secret_key))
        audit.record(session, _now(), None, "participant_erased", actor="cli", study=study.slug,
                     ref_digest=ref_digest(settings.secret_key, study.slug, ref),
                     **report.counts())
        session.commit()
    click.echo("\n".join(report.lines()))


study_group = click.Group("study", help="Define studies: waves, instruments, measures, arms.")


@study_group.command("apply")
@click.argument("definition", type=click.Path(dir_okay=False))
@friendly_errors
def study_apply(definition: str):
    """Create a study from STUDY.yaml, or bring the study with its slug in line with it."""
    from surveys.studies.apply import apply_definition
    from surveys.studies.definition import DefinitionError, read_definition

    path = Path(definition)
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{path.name}: the file is not UTF-8 text") from None
    with _session() as session:
        try:
            result = apply_definition(session, read_definition(source), now=_now(),
                                      base_dir=path.parent)
        except DefinitionError as exc:
            session.rollback()
            count = len(exc.problems)
            what = "nothing was changed" + (f" ({count} problems)" if count > 1 else "")
            raise click.ClickException(f"{path.name}: {exc}; {what}") from None
        session.commit()
    verb = "Created" if result.created else "Applied"
    click.echo(f"{verb} study '{result.slug}':")
    click.echo("\n".join(f"- {line}" for line in result.changes))


@study_group.command("show")
@click.argument("slug")
@friendly_errors
def study_show(slug: str):
    """Print a study's definition as YAML that `surveys study apply` accepts back."""
    from surveys.studies.definition import write_definition

    with _session() as session:
        study = resolve_study(session, slug)
        sys.stdout.write(write_definition(study))


@click.command("export-responses")
@click.option("--wave", required=True, help="Wave code, e.g. wave2")
@click.option("--format", "fmt", default="csv", show_default=True, metavar="csv|sav|dta",
              help="csv, SPSS .sav or Stata .dta (labelled)")
@click.option("--output", "output", type=click.Path(dir_okay=False),
              help="Write to this file instead of stdout (sav and dta go to a file or a pipe)")
@click.option("--language", default="en", show_default=True, metavar="en|cy",
              help="Language of the labels of a .sav or .dta")
@study_option
@friendly_errors
def export_responses_command(wave: str, fmt: str, output: str | None, language: str,
                             study_slug: str | None):
    """A wave's submitted responses, one row each (for researchers)."""
    from surveys.responses.export import export_csv
    from surveys.responses.labelled import responses_table, write

    _check_export_options(fmt, ("csv", "sav", "dta"), language)
    with _session() as session:
        study = resolve_study(session, study_slug)
        code = wave_by_code(study, wave)
        if fmt == "csv":  # today's export, unchanged
            body: bytes = export_csv(session, code).encode("utf-8")
        else:
            body = write(responses_table(session, study, code, language=language), fmt)
        _write_export(body, fmt, output)
        audit.record(session, _now(), None, "export", actor="cli", study=study.slug,
                     report="responses", wave=wave, format=fmt)
        session.commit()
    if output:
        click.echo(f"Wrote the {fmt} responses of wave '{wave}' of study '{study.slug}' "
                   f"to {output}.")


@click.command("export-pairs")
@click.option("--follow-up", "follow_up", required=True, help="Wave code, e.g. wave2")
@click.option("--format", "fmt", default="csv", show_default=True, metavar="csv|sav|dta",
              help="csv, SPSS .sav or Stata .dta (labelled)")
@click.option("--output", "output", type=click.Path(dir_okay=False),
              help="Write to this file instead of stdout (sav and dta go to a file or a pipe)")
@click.option("--language", default="en", show_default=True, metavar="en|cy",
              help="Language of the labels of a .sav or .dta")
@study_option
@friendly_errors
def export_pairs_command(follow_up: str, fmt: str, output: str | None, language: str,
                         study_slug: str | None):
    """Per linked response of a wave: baseline, follow-up and change of each measure."""
    from surveys.responses.labelled import ExportError, pairs_table, write

    _check_export_options(fmt, ("csv", "sav", "dta"), language)
    with _session() as session:
        study = resolve_study(session, study_slug)
        try:
            table = pairs_table(session, study, wave_by_code(study, follow_up),
                                language=language)
        except ExportError as exc:
            raise click.ClickException(str(exc)) from None
        _write_export(write(table, fmt), fmt, output)
        audit.record(session, _now(), None, "export", actor="cli", study=study.slug,
                     report="pairs", follow_up=follow_up, format=fmt, rows=len(table.rows))
        session.commit()
    if output:
        click.echo(f"Wrote the {fmt} pairs of wave '{follow_up}' of study '{study.slug}' "
                   f"to {output}.")


@click.command("codebook")
@click.option("--format", "fmt", default="html", show_default=True, metavar="html|csv|xlsx")
@click.option("--output", "output", type=click.Path(dir_okay=False),
              help="Write to this file instead of stdout (xlsx goes to a file or a pipe)")
@click.option("--language", default="en", show_default=True, metavar="en|cy",
              help="Language of the headings and value labels")
@study_option
@friendly_errors
def codebook_command(fmt: str, output: str | None, language: str, study_slug: str | None):
    """Every variable of a study's exports: name, question text, values, routing..."""
    from surveys.responses.codebook import codebook_rows, render

    _check_export_options(fmt, ("html", "csv", "xlsx"), language)
    with _session() as session:
        study = resolve_study(session, study_slug)
        body = render(codebook_rows(session, study, language), study, fmt, language)
        _write_export(body, fmt, output)
    if output:
        click.echo(f"Wrote the {fmt} codebook of study '{study.slug}' to {output}.")


def _check_export_options(fmt: str, formats: tuple[str, ...], language: str) -> None:
    if fmt not in formats:
        raise click.ClickException(f"Unknown format '{fmt}' (use one of: {', '.join(formats)}).")
    if language not in ("en", "cy"):
        raise click.ClickException(f"Unknown language '{language}' (use en or cy).")


def _write_export(body: bytes, fmt: str, output: str | None) -> None:
    """To the file (all or nothing: a failed write leaves no half file), else stdout."""
    if output:
        path = Path(output)
        partial = path.with_name(f".{path.name}.partial")
        try:
            partial.write_bytes(body)
            partial.replace(path)
        except OSError as exc:
            raise click.ClickException(f"Cannot write {output}: {exc.strerror or exc}") from None
        finally:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
    elif fmt in ("sav", "dta", "xlsx") and sys.stdout.isatty():
        raise click.ClickException(f"A .{fmt} file is binary: give --output FILE.")
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()


COMMANDS = [db_group, import_cohort_command, import_responses_command, report_group, links, demo,
            create_user_command, dispatch_once, scheduler_only, run, erase_participant_command,
            export_responses_command, import_referrals_command, study_group]
COMMANDS += [export_pairs_command, codebook_command]  # labelled exports and codebook (issue 16)


def register(app) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


class SurveysGroup(click.Group):
    """The console script. A plain click group (not Flask's): `--help` and every command load
    only what they need. The settings' syntax is checked first, so a setting that cannot
    work is one line (exit 1) whatever was asked, `--help` included."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from surveys.settings import check_env

        check_env()  # SettingsError is a ClickException: one line
        return super().parse_args(ctx, args)


main = SurveysGroup(
    name="surveys",
    help="Survey and outcomes service for health-and-work programmes.",
    commands=COMMANDS,
)
