"""The study form: a definition as web fields, and back to the dict `check_definition` reads.

The form does no checking of its own beyond CSRF: what the researcher typed goes to
`check_definition` and `apply_definition` as `study apply` would read it from a file, so
the pages and the command give the same checks and the same messages.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from surveys.invitations.windows import DAYS, DEFAULT_TIME_ZONE, DEFAULT_WINDOW
from surveys.models import MAX_MEASURES
from surveys.studies.definition import MAX_WAVES, StudyDefinition

DAY_NAMES = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
             _l("Saturday"), _l("Sunday"))

BLANK_ROWS = 2


class _Lenient:
    """Any submitted value goes through, to be judged by check_definition."""

    def pre_validate(self, form) -> None:
        pass


class LenientSelect(_Lenient, SelectField):
    pass


class LenientCheckboxes(_Lenient, SelectMultipleField):
    pass


class LenientRadios(_Lenient, RadioField):
    pass


class DayMonthYearField(Field):
    """The three boxes of a GOV.UK date input, kept as typed (a list of three texts)."""

    widget = GovDateInput()

    def process_formdata(self, valuelist: list) -> None:
        self.raw_data = (list(valuelist) + ["", "", ""])[:3]
        self.data = self.raw_data

    def _value(self) -> str:
        return ""

    def as_text(self) -> str | None:
        """None when every box is blank; else 'YYYY-MM-DD' (check_definition judges it)."""
        if self.raw_data is None:
            return self.data.isoformat() if self.data else None
        day, month, year = (str(v).strip() for v in self.raw_data)
        if not (day or month or year):
            return None
        return f"{year}-{month.zfill(2)}-{day.zfill(2)}"


class MeasureRow(Form):
    id = StringField(_l("Id (the follow-up question id)"), widget=GovTextInput())
    kind = LenientSelect(_l("Kind"), widget=GovSelect(), choices=[
        SelectChoice("scale", _l("Scale (whole numbers from min to max)")),
        SelectChoice("binary", _l("Binary (yes or no)"))])
    better = LenientSelect(_l("Better value"), widget=GovSelect(), choices=[
        SelectChoice("", _l("Default (higher, for a scale)")),
        SelectChoice("higher", _l("Higher")), SelectChoice("lower", _l("Lower")),
        SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))])
    baseline = LenientSelect(_l("Baseline"), widget=GovSelect(), choices=[
        SelectChoice("yes", _l("Yes: stored for each client (cohort column id_end)")),
        SelectChoice("no", _l("No: an outcome asked at follow-up only"))])
    min = StringField(_l("Minimum (scale only)"), widget=GovTextInput())
    max = StringField(_l("Maximum (scale only)"), widget=GovTextInput())
    reliable_change = StringField(_l("Reliable change in points (scale only, optional)"),
                                  widget=GovTextInput())
    label_en = StringField(_l("Label in English"), widget=GovTextInput())
    label_cy = StringField(_l("Label in Welsh"), widget=GovTextInput())
    remove = BooleanField(_l("Remove this measure"), widget=GovCheckboxInput(),
                          description=_l("Refused if it has stored values or answers."))

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in (
            self.id, self.min, self.max, self.reliable_change, self.label_en, self.label_cy))


class WaveRow(Form):
    code = StringField(_l("Code"), widget=GovTextInput())
    label_en = StringField(_l("Name in reports, in English (optional)"), widget=GovTextInput(),
                           description=_l("For example: Six weeks on. Without a name, "
                                          "reports name the wave from its code."))
    label_cy = StringField(_l("Name in reports, in Welsh"), widget=GovTextInput())
    instrument = LenientSelect(_l("Instrument"), widget=GovSelect())
    instrument_file = FileField(_l("Or upload an instrument file (YAML)"), widget=GovFileInput())
    offset_days = StringField(_l("Days after completing the intervention"),
                              widget=GovTextInput())
    reminder_days = StringField(_l("Reminders, days after issue (up to 3, separated by commas)"),
                                widget=GovTextInput())
    close_days = StringField(_l("Closes, days after issue"), widget=GovTextInput())
    channels = LenientCheckboxes(_l("How clients are reached"), widget=GovCheckboxesInput(),
                                 default=["email"],
                                 choices=[SelectChoice("email", _l("Email")),
                                          SelectChoice("sms", _l("Text message (SMS)"))])
    mode = LenientSelect(_l("How the questionnaire is answered"), widget=GovSelect(),
                         default="web", choices=[
                             SelectChoice("web", _l("Online, through a personal link")),
                             SelectChoice("telephone",
                                          _l("By telephone: on interviewers' call lists"))])
    max_calls = StringField(_l("Most call attempts (telephone waves)"), widget=GovTextInput())
    subject_en = StringField(_l("Email subject in English (optional)"), widget=GovTextInput(),
                             description=_l("Without one, the service's words."))
    subject_cy = StringField(_l("Email subject in Welsh"), widget=GovTextInput())
    intro_en = StringField(_l("Opening words in English (optional)"), widget=GovTextInput())
    intro_cy = StringField(_l("Opening words in Welsh"), widget=GovTextInput())
    minutes = StringField(_l("Minutes it takes (optional)"), widget=GovTextInput())
    remove = BooleanField(_l("Remove this wave"), widget=GovCheckboxInput(),
                          description=_l("Refused if it has issued questionnaires or "
                                         "responses."))

    def upload(self):
        data = self.instrument_file.data
        return data if data is not None and getattr(data, "filename", "") else None

    def is_blank(self) -> bool:
        return self.upload() is None and not (self.instrument.data or "").strip() and not any(
            (f.data or "").strip()
            for f in (self.code, self.label_en, self.label_cy, self.offset_days,
                      self.reminder_days, self.close_days, self.subject_en, self.subject_cy,
                      self.intro_en, self.intro_cy, self.minutes))


class StudyForm(FlaskForm):
    name = StringField(_l("Name"), widget=GovTextInput())
    slug = StringField(_l("Short name for addresses and files (slug)"), widget=GovTextInput(),
                       description=_l("1 to 64 characters: a-z, 0-9 and '-'. It cannot be "
                                      "changed later."))
    programme_en = StringField(_l("Programme name in English"), widget=GovTextInput(),
                               description=_l("How clients know the service: used in emails "
                                              "and on their pages."))
    programme_cy = StringField(_l("Programme name in Welsh"), widget=GovTextInput())
    languages = LenientCheckboxes(_l("Languages clients answer in"),
                                  widget=GovCheckboxesInput(),
                                  choices=[SelectChoice("en", _l("English")),
                                           SelectChoice("cy", _l("Welsh"))])
    end_date = DayMonthYearField(_l("End date (optional)"),
                                 description=_l("Nothing is issued after it. For example, "
                                                "31 3 2027."))
    disclosure_threshold = StringField(_l("Disclosure threshold"), widget=GovTextInput(),
                                       description=_l("Counts from 1 up to this number are "
                                                      "suppressed in publication exports."))
    arms = StringField(_l("Arms (optional)"), widget=GovTextInput(),
                       description=_l("Separated by commas, the first compared with the "
                                      "second; for example: integrated, comparison."))
    randomised = LenientRadios(_l("Were participants allocated to the arms at random?"),
                               widget=GovRadioInput(), default="no",
                               description=_l("Only for a study with arms: yes when chance "
                                              "alone decided each participant's arm."),
                               choices=[SelectChoice("yes", _l("Yes: randomised")),
                                        SelectChoice("no", _l("No"))])
    notes = TextAreaField(_l("Notes (optional)"), widget=GovTextArea(),
                          description=_l("For researchers and evaluators, never shown to "
                                         "clients: how the study was set up, its assumptions, "
                                         "anything a reader of its reports should know."))
    time_zone = StringField(_l("Time zone"), widget=GovTextInput(), default=DEFAULT_TIME_ZONE,
                            description=_l("Due dates are dates here, and messages go only in "
                                           "its sending hours. For example: Europe/London."))
    send_from = StringField(_l("Messages may go from (HH:MM)"), widget=GovTextInput(),
                            default=DEFAULT_WINDOW["from"])
    send_to = StringField(_l("Until (HH:MM)"), widget=GovTextInput(),
                          default=DEFAULT_WINDOW["to"])
    send_days = LenientCheckboxes(_l("On these days"), widget=GovCheckboxesInput(),
                                  default=list(DEFAULT_WINDOW["days"]),
                                  description=_l("Messages wait for the next day ticked."),
                                  choices=[SelectChoice(d, n) for d, n in zip(DAYS, DAY_NAMES,
                                                                              strict=True)])
    organisation_en = StringField(_l("Who runs the study, in English (optional)"),
                                  widget=GovTextInput(),
                                  description=_l("Named in every message and the privacy "
                                                 "notice."))
    organisation_cy = StringField(_l("Who runs the study, in Welsh"), widget=GovTextInput())
    contact_en = StringField(_l("Who to contact, in English (optional)"), widget=GovTextInput(),
                             description=_l("For example: the research team at "
                                            "research@example.org or 0300 123 4567."))
    contact_cy = StringField(_l("Who to contact, in Welsh"), widget=GovTextInput())
    measures = FieldList(FormField(MeasureRow), max_entries=MAX_MEASURES + 4)
    waves = FieldList(FormField(WaveRow), max_entries=MAX_WAVES + 4)
    submit = SubmitField(_l("Save study"), widget=GovSubmitInput())


class DefinitionUploadForm(FlaskForm):
    definition = FileField(_l("Study definition file (YAML)"), widget=GovFileInput())
    submit = SubmitField(_l("Upload and apply"), widget=GovSubmitInput())


def form_data(d: StudyDefinition) -> dict:
    """The form's fields for a definition (the edit page)."""
    window = d.send_window or DEFAULT_WINDOW
    return {
        "name": d.name, "slug": d.slug,
        "programme_en": d.programme.get("en", ""), "programme_cy": d.programme.get("cy", ""),
        "languages": list(d.languages), "end_date": d.end_date,
        "disclosure_threshold": str(d.disclosure_threshold), "arms": ", ".join(d.arms),
        "randomised": "yes" if d.randomised else "no", "notes": d.notes or "",
        "time_zone": d.time_zone, "send_from": window["from"], "send_to": window["to"],
        "send_days": list(window["days"]),
        **{f"{key}_{lang}": d.messages.get(key, {}).get(lang, "")
           for key in ("organisation", "contact") for lang in ("en", "cy")},
        "measures": [{
            "id": m.id, "kind": m.kind, "better": m.better,
            "baseline": "yes" if m.baseline else "no",
            "min": "" if m.min is None else str(m.min),
            "max": "" if m.max is None else str(m.max),
            "reliable_change": _number_text(m.reliable_change),
            "label_en": m.label.get("en", ""), "label_cy": m.label.get("cy", ""),
        } for m in d.measures],
        "waves": [{
            "code": w.code, "label_en": w.label.get("en", ""), "label_cy": w.label.get("cy", ""),
            "instrument": w.instrument, "offset_days": str(w.offset_days),
            "reminder_days": ", ".join(str(r) for r in w.reminder_days),
            "close_days": str(w.close_days), "channels": list(w.channels),
            "mode": w.mode, "max_calls": str(w.max_calls),
            **{f"{key}_{lang}": w.messages.get(key, {}).get(lang, "")
               for key in ("subject", "intro") for lang in ("en", "cy")},
            "minutes": str(w.messages.get("minutes", "")),
        } for w in d.waves],
    }


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def add_blank_rows(form: StudyForm, measures: int = BLANK_ROWS, waves: int = BLANK_ROWS) -> None:
    """Room for new measures and waves: at least that many empty rows of each."""
    for rows, wanted in ((form.measures, measures), (form.waves, waves)):
        blank = sum(1 for row in rows if row.form.is_blank())
        while blank < wanted and len(rows) < rows.max_entries:
            rows.append_entry()
            blank += 1


class Reader:
    """Turns the submitted form into a definition document, collecting what cannot be read."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def text(self, field: Field, where: str) -> str:
        value = (field.data or "").strip() if isinstance(field.data, str | None) else ""
        if any(ord(c) < 32 or c == "\x7f" for c in value):
            self.problems.append(f"{where}: must not contain control characters")
            return ""
        return value

    def number(self, field: Field, where: str, node: dict, key: str) -> None:
        """Blank: the key is left out (its default); else a number, or the text as typed."""
        raw = self.text(field, where)
        if raw:
            node[key] = _parse_number(raw)

    def texts(self, node: dict, key: str, en: str, cy: str) -> None:
        given = {lang: value for lang, value in (("en", en), ("cy", cy)) if value}
        if given:
            node[key] = given


def _parse_number(raw: str) -> int | float | str:
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


def _split(raw: str) -> list:
    return [_parse_number(part.strip()) for part in raw.split(",")] if raw else []


def definition_document(form: StudyForm, slug: str) -> tuple[dict, dict, list[str]]:
    """(document for check_definition, uploads by wave code, problems reading the form)."""
    r = Reader()
    doc: dict = {"slug": slug, "name": r.text(form.name, "name"),
                 "languages": [v for v in (form.languages.data or []) if isinstance(v, str)]}
    r.texts(doc, "programme", r.text(form.programme_en, "programme.en"),
            r.text(form.programme_cy, "programme.cy"))
    end = form.end_date.as_text()
    if end is not None:
        if any(ord(c) < 32 or c == "\x7f" for c in end):
            r.problems.append("end_date: must not contain control characters")
        else:
            doc["end_date"] = end
    r.number(form.disclosure_threshold, "disclosure_threshold", doc, "disclosure_threshold")
    doc["arms"] = _split(r.text(form.arms, "arms"))
    doc["randomised"] = form.randomised.data == "yes"
    notes = (form.notes.data or "").replace("\r\n", "\n").strip()
    if any((ord(c) < 32 and c not in "\n\t") or c == "\x7f" for c in notes):
        r.problems.append("notes: must not contain control characters")
    elif notes:
        doc["notes"] = notes
    doc["time_zone"] = r.text(form.time_zone, "time_zone") or DEFAULT_TIME_ZONE
    window = {"from": r.text(form.send_from, "send_window.from"),
              "to": r.text(form.send_to, "send_window.to"),
              "days": [v for v in (form.send_days.data or []) if isinstance(v, str)]}
    if any(window.values()):  # all blank: the default window
        doc["send_window"] = {"from": window["from"] or DEFAULT_WINDOW["from"],
                              "to": window["to"] or DEFAULT_WINDOW["to"],
                              "days": window["days"]}
    messages: dict = {}
    for key in ("organisation", "contact"):
        r.texts(messages, key, r.text(getattr(form, f"{key}_en"), f"messages.{key}.en"),
                r.text(getattr(form, f"{key}_cy"), f"messages.{key}.cy"))
    if messages:
        doc["messages"] = messages
    doc["measures"] = []
    for i, entry in enumerate(form.measures, start=1):
        row: MeasureRow = entry.form
        if row.remove.data or row.is_blank():
            continue
        where = f"measures[{i}]"
        node: dict = {"id": r.text(row.id, f"{where}.id"), "kind": row.kind.data,
                      "baseline": row.baseline.data != "no"}
        if row.better.data:
            node["better"] = row.better.data
        for key in ("min", "max", "reliable_change"):
            r.number(getattr(row, key), f"{where}.{key}", node, key)
        r.texts(node, "label", r.text(row.label_en, f"{where}.label.en"),
                r.text(row.label_cy, f"{where}.label.cy"))
        doc["measures"].append(node)
    doc["waves"] = []
    uploads: dict[str, tuple[str, str]] = {}
    for i, entry in enumerate(form.waves, start=1):
        row: WaveRow = entry.form
        if row.remove.data or row.is_blank():
            continue
        where = f"waves[{i}]"
        node = {"code": r.text(row.code, f"{where}.code"),
                "instrument": r.text(row.instrument, f"{where}.instrument"),
                "reminder_days": _split(r.text(row.reminder_days, f"{where}.reminder_days"))}
        r.texts(node, "label", r.text(row.label_en, f"{where}.label.en"),
                r.text(row.label_cy, f"{where}.label.cy"))
        r.number(row.offset_days, f"{where}.offset_days", node, "offset_days")
        r.number(row.close_days, f"{where}.close_days", node, "close_days")
        node["channels"] = [v for v in (row.channels.data or []) if isinstance(v, str)]
        if row.mode.data and row.mode.data != "web":
            node["mode"] = row.mode.data
        r.number(row.max_calls, f"{where}.max_calls", node, "max_calls")
        wave_messages: dict = {}
        for key in ("subject", "intro"):
            r.texts(wave_messages, key, r.text(getattr(row, f"{key}_en"), f"{where}.{key}.en"),
                    r.text(getattr(row, f"{key}_cy"), f"{where}.{key}.cy"))
        r.number(row.minutes, f"{where}.messages.minutes", wave_messages, "minutes")
        if wave_messages:
            node["messages"] = wave_messages
        upload = row.upload()
        if upload is not None:
            name = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] or "instrument.yaml"
            try:
                uploads[node["code"]] = (name, upload.read().decode("utf-8-sig"))
                node["instrument"] = name
            except UnicodeDecodeError:
                r.problems.append(f"wave {node['code']}.instrument: {name} is not UTF-8 text")
        doc["waves"].append(node)
    return doc, uploads, r.problems
