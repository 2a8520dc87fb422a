"""A form factory: builds the WTForms form for one questionnaire page from its definition."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovRadioInput,
)
from wtforms import Field, RadioField, SelectMultipleField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice

from instruments import Page, Question, parse_answer, text
from surveys.messages import answer_error


class _Lenient:
    """Choice fields validate through the instrument, not WTForms' own pre-check."""

    def pre_validate(self, form) -> None:
        pass


class AnswerRadioField(_Lenient, RadioField):
    pass


class AnswerCheckboxesField(_Lenient, SelectMultipleField):
    pass


def _choices(question: Question, language: str) -> list[SelectChoice]:
    if question.type == "scale_0_10":
        return [SelectChoice(str(n), str(n)) for n in range(11)]
    return [
        SelectChoice(choice.value, text(choice.label, language))
        for choice in question.choices
    ]


def _validator(question: Question, language: str):
    def validate(form, field: Field) -> None:
        raw = field.data
        if isinstance(raw, str):
            raw = raw.strip()
        value, code = parse_answer(question, raw if raw not in ("", []) else None)
        if code:
            raise ValidationError(answer_error(code, question, language))
        field.parsed = value

    return validate


def _field(question: Question, language: str) -> Field:
    label = text(question.text, language)
    hint = text(question.hint, language) if question.hint else ""
    validators = [_validator(question, language)]
    if question.type == "multiple_choice":
        return AnswerCheckboxesField(
            label, choices=_choices(question, language), description=hint,
            widget=GovCheckboxesInput(), validators=validators,
        )
    if question.type == "free_text":
        return TextAreaField(
            label, description=hint, widget=GovCharacterCount(), validators=validators
        )
    return AnswerRadioField(
        label, choices=_choices(question, language), description=hint,
        widget=GovRadioInput(), validators=validators,
    )


def page_form(page: Page, language: str, answers: dict, formdata=None) -> FlaskForm:
    """A form class for the page's questions, filled with what the client said before."""

    class PageForm(FlaskForm):
        pass

    for question in page.questions:
        setattr(PageForm, question.id, _field(question, language))
    data = {}
    for question in page.questions:
        value = answers.get(question.id)
        if value is None:
            continue
        data[question.id] = value if isinstance(value, list | str) else str(value)
    # A submitted form speaks for itself: unticking every box must clear the answer.
    return PageForm(formdata=formdata) if formdata is not None else PageForm(data=data)


def parsed_values(form: FlaskForm, page: Page) -> dict:
    return {q.id: getattr(getattr(form, q.id), "parsed", None) for q in page.questions}
