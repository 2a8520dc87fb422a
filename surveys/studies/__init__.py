"""Studies: finding and creating them (here), their measures, definitions and instruments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import Study, Wave

DEFAULT_SLUG = "default"

# wave1 at the end of the intervention, wave2 six weeks later (the evaluation's design);
# their names in reports are the instruments' own words (wave1.yaml, wave2.yaml).
DEFAULT_WAVES = (
    {"code": "wave1", "instrument": "wave1", "offset_days": 0,
     "label": {"en": "End of the intervention", "cy": "Diwedd yr ymyriad"}},
    {"code": "wave2", "instrument": "wave2", "offset_days": 42,
     "label": {"en": "Six weeks on", "cy": "Chwe wythnos yn ddiweddarach"}},
)


class StudyNotFound(LookupError):
    pass


# How EHD clients know the service (a study created without a definition).
EHD_PROGRAMME = {"en": "Employment and Health Discussion", "cy": "Trafodaeth Cyflogaeth ac Iechyd"}


def create_study(session: Session, slug: str, name: str, **fields) -> Study:
    """A study with the EHD's design: two waves, the three 0-10 measures."""
    from surveys.studies.measures import ehd_measures

    fields.setdefault("programme", dict(EHD_PROGRAMME))
    fields.setdefault("languages", ["en", "cy"])
    fields.setdefault("arms", [])
    study = Study(slug=slug, name=name, **fields)
    study.waves = [Wave(reminder_days=[7], close_days=28, **wave) for wave in DEFAULT_WAVES]
    study.measures = ehd_measures()
    session.add(study)
    session.flush()
    return study


def resolve_study(session: Session, slug: str | None, *, create: bool = False) -> Study:
    """The study named by `slug`, else the first one created (the default).

    With `create`, an empty database gets a default study, so a researcher can
    import a cohort without any set-up step.
    """
    if slug:
        study = session.scalar(select(Study).where(Study.slug == slug))
        if study is None:
            raise StudyNotFound(f"No study called '{slug}'.")
        return study
    study = session.scalar(select(Study).order_by(Study.id).limit(1))
    if study is None:
        if not create:
            raise StudyNotFound("There is no study yet: import a cohort or run `surveys demo`.")
        study = create_study(session, DEFAULT_SLUG, "Employment and Health Discussion evaluation")
    return study


def wave_by_code(study: Study, code: str) -> Wave:
    for wave in study.waves:
        if wave.code == code:
            return wave
    known = ", ".join(w.code for w in study.waves)
    raise StudyNotFound(f"Study '{study.slug}' has no wave '{code}' (its waves: {known}).")


def default_follow_up(study: Study) -> str:
    """The wave reports pair with when none is named: the study's last (wave2 for the EHD)."""
    if not study.waves:
        raise StudyNotFound(f"Study '{study.slug}' has no waves yet.")
    return study.waves[-1].code
