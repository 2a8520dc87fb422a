"""Report pages in Welsh (issue 16): every interval reads "7.9 i 35.6", never "7.9 to 35.6",
and no method is described in English; the paired page's wave selector names the study's
waves and keeps the report's options."""

from __future__ import annotations

import re
from html import unescape

import pytest

from surveys.i18n import catalog
from tests.helpers import sign_in
from tests.reports.conftest import DEMO_PASSWORD

NUMBER = r"-?\d[\d,]*(?:\.\d+)?%?"
STUDIES = ("ehd-2024", "hws-pilot", "working-links")


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture(scope="module")
def researcher(demo_app):
    client = demo_app.test_client()
    sign_in(client, "researcher@example.org", DEMO_PASSWORD)
    return client


def _english_methods() -> list[str]:
    """Every method sentence the reports can show, in English, as marked for translation."""
    from surveys.reports.methods import method_texts

    return [text for text in method_texts() if " " in text]


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return text_of(response.get_data(as_text=True))


@pytest.mark.parametrize("slug", STUDIES)
@pytest.mark.parametrize("page", ("paired", "evaluation"))
def test_welsh_report_pages_say_i_between_the_ends_of_every_interval(researcher, slug, page):
    text = _page(researcher, f"/reports/{slug}/{page}?lang=cy")
    found = re.findall(rf"{NUMBER}%? to {NUMBER}", text)
    assert not found, found[:5]


def _heads() -> list[str]:
    """The fixed start of each method sentence (before any field), long enough to be sure."""
    heads = [re.split(r"\{", text, maxsplit=1)[0].strip() for text in _english_methods()]
    return [head for head in heads if len(head) >= 20]


@pytest.mark.parametrize("slug", STUDIES)
@pytest.mark.parametrize("page", ("paired", "evaluation"))
def test_welsh_pages_put_every_method_sentence_through_the_catalogue(
        demo_app, researcher, monkeypatch, slug, page):
    """With a stand-in Welsh catalogue for the method texts (the real Welsh is the lead's),
    no English method sentence is left on the Welsh page, and the methods are there."""
    from surveys.reports import methods
    from surveys.reports.cache import ReportCache

    monkeypatch.setitem(demo_app.extensions, "surveys.report_cache", ReportCache())
    monkeypatch.setattr(methods, "translate", lambda text, language: "Dull: " + " ".join(
        "{" + name + "}" for name in re.findall(r"\{(\w+)\}", text)) if language == "cy"
        else text)
    english = _page(researcher, f"/reports/{slug}/{page}?lang=en")
    text = _page(researcher, f"/reports/{slug}/{page}?lang=cy")
    shown = [head for head in _heads() if head in english]
    if slug != "working-links":  # its outcomes' intervals are named by SciPy call only
        assert shown, "no method sentence on the English page"
        assert "Dull:" in text
    assert not [head for head in shown if head in text]


@pytest.mark.parametrize("slug", STUDIES)
@pytest.mark.parametrize("page", ("paired", "evaluation"))
def test_welsh_report_pages_describe_no_method_in_english(researcher, slug, page):
    """Each method sentence goes through the Welsh catalogue: where it has a Welsh text, the
    English one is not on the Welsh page (the lead fills the Welsh after this change)."""
    text = _page(researcher, f"/reports/{slug}/{page}?lang=cy")
    welsh = catalog("cy")
    for sentence in _english_methods():
        head = re.split(r"\{", sentence, maxsplit=1)[0].strip()
        if len(head) < 20 or head not in text:
            continue
        assert welsh.gettext(sentence) != sentence, f"no Welsh yet for: {sentence[:60]}"
        raise AssertionError(f"English on the Welsh page: {head}")


@pytest.mark.parametrize("slug", STUDIES)
def test_welsh_spreadsheet_says_i_between_the_ends_of_every_interval(researcher, slug):
    from io import BytesIO

    from openpyxl import load_workbook

    response = researcher.get(f"/reports/{slug}/evaluation.xlsx?lang=cy")
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.data), read_only=True)
    # Every sheet but the codebook, which quotes the English questions beside the Welsh.
    sheets = [sheet for sheet in book.worksheets
              if not str(sheet["A1"].value or "").startswith("Llyfr codau")]
    assert len(sheets) == len(book.worksheets) - 1
    cells = [str(v) for sheet in sheets for row in sheet.iter_rows(values_only=True)
             for v in row if isinstance(v, str)]
    assert not [c for c in cells if re.search(rf"{NUMBER} to {NUMBER}", c)]
    assert any(re.search(rf"{NUMBER} i {NUMBER}", c) for c in cells) or slug != "working-links"
