"""The report pages people read, in Chromium, on the demo's three studies: the evaluation
report (without and with each breakdown, for publication, as an evaluator) and the paired
report, at a phone's width (375px) and a small desktop's (960px).

On each page: axe-core with the WCAG A/AA rules and its best-practice rules finds nothing
(on the variants, colour contrast at 960px only and not on a table's body rows after its
second: see SAMPLED);
the page never scrolls sideways; every chart's text lies inside its drawing, overlaps no
other text and is drawn at 12px or more; every legend symbol is the shape and colour of a
mark it explains; every table is either fully visible or inside a keyboard-focusable,
labelled region that scrolls it.
"""

from __future__ import annotations

import socket
import threading

import pytest
from waitress import create_server

from tests.reports.conftest import DEMO_PASSWORD, demo_app, demo_engine, demo_url  # noqa: F401

pytestmark = pytest.mark.browser
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]
WIDTHS = (375, 960)
STUDIES = {  # slug: the breakdowns its evaluation report offers
    "ehd-2024": ("site", "channel", "language", "appointments"),
    "hws-pilot": ("site", "language"),
    "working-links": ("site", "language", "arm"),
}
# Every rule, colour contrast too, on each study's two report pages. On the variants (each
# breakdown, for publication, as an evaluator) colour contrast, axe-core's slowest rule by
# far (20 s of 25 on a broken-down page on two CPUs: it examines every table cell), runs at
# one width on everything but the body rows of a table after its second: those are drawn by
# the same macro with the same classes as the rows examined (a total row is examined too).
SAMPLED = {"exclude": [["main table tbody tr:nth-child(n+3):not(.app-report-table__total)"]]}
PAGES = [(slug, page, "researcher", True) for slug in STUDIES for page in ("evaluation", "paired")]
PAGES += [(slug, f"evaluation?breakdown={b}", "researcher", False)
          for slug, breakdowns in STUDIES.items() for b in breakdowns]
PAGES += [(slug, page, role, False) for slug in STUDIES
          for page, role in (("evaluation?publication=1", "researcher"),
                             ("evaluation", "evaluator"),
                             ("evaluation?breakdown=site", "evaluator"),
                             ("paired?publication=1", "researcher"), ("paired", "evaluator"))]

# What the page shows, measured in the browser: sideways scrolling, each chart's texts
# (outside the drawing, overlapping, drawn size) and legend symbols, each table's region.
MEASURE = """() => {
  const out = {scrollWidth: document.documentElement.scrollWidth, charts: [], tables: []};
  for (const svg of document.querySelectorAll('main svg.app-chart')) {
    const frame = svg.getBoundingClientRect();
    const id = svg.querySelector('title') ? svg.querySelector('title').id : '?';
    const texts = [...svg.querySelectorAll('text')].map((t) => ({
      text: t.textContent, r: t.getBoundingClientRect(),
      size: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a}));
    const outside = texts.filter(({r}) => r.left < frame.left - 0.5 ||
      r.right > frame.right + 0.5 || r.top < frame.top - 0.5 || r.bottom > frame.bottom + 0.5)
      .map((t) => t.text);
    const overlapping = [];
    texts.forEach((a, i) => texts.slice(i + 1).forEach((b) => {
      const x = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const y = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (x > 1 && y > 1) overlapping.push([a.text, b.text]);
    }));
    const marks = [...svg.querySelectorAll('rect, circle, path')]
      .filter((m) => !m.closest('.app-chart__legend'));
    const unmatched = [...svg.querySelectorAll('.app-chart__legend-symbol')].filter((s) =>
      !marks.some((m) => m.tagName === s.tagName &&
        getComputedStyle(m).fill === getComputedStyle(s).fill &&
        getComputedStyle(m).stroke === getComputedStyle(s).stroke))
      .map((s) => s.tagName + '.' + s.getAttribute('class'));
    out.charts.push({id, right: frame.right, outside, overlapping, unmatched,
                     legends: svg.querySelectorAll('.app-chart__legend').length,
                     small: texts.filter((t) => t.size < 12).map((t) => [t.text, t.size])});
  }
  for (const table of document.querySelectorAll('main table')) {
    let scroller = table.parentElement;
    while (scroller && scroller !== document.body &&
           getComputedStyle(scroller).overflowX === 'visible') scroller = scroller.parentElement;
    const scrolls = !!scroller && scroller !== document.body &&
      scroller.scrollWidth > scroller.clientWidth + 1;
    const region = table.closest('[role=region]');
    out.tables.push({caption: table.caption ? table.caption.textContent.trim() : '?',
      fits: !scrolls && table.getBoundingClientRect().right <= window.innerWidth + 0.5,
      region: !!region && region === scroller && region.getAttribute('tabindex') === '0' &&
        !!(region.getAttribute('aria-label') || region.getAttribute('aria-labelledby'))});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def server(demo_app):  # noqa: F811
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    served = create_server(demo_app, sockets=[sock], threads=4)
    thread = threading.Thread(target=served.run, name="waitress-reports", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    served.trigger.pull_trigger(lambda: [c.close() for c in list(served._map.values())])
    thread.join(timeout=5)
    served.task_dispatcher.shutdown(timeout=5)
    sock.close()


@pytest.fixture(scope="module")
def tabs(browser, server):
    """One signed-in tab per role, reused by every test of the module."""
    opened, contexts = {}, []
    for role in ("researcher", "evaluator"):
        context = browser.new_context(viewport={"width": 960, "height": 900},
                                      locale="en-GB", timezone_id="Europe/London")
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(server + "/staff/sign-in")
        page.get_by_label("Email address", exact=True).fill(f"{role}@example.org")
        page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_load_state("load")
        assert "sign-in" not in page.url, page.url
        opened[role] = page
    yield opened
    for context in contexts:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("slug", "path", "role", "contrast"), PAGES)
def test_report_page_is_readable_at_every_width(tabs, server, axe, slug, path, role, contrast,
                                               width):
    page = tabs[role]
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto(f"{server}/reports/{slug}/{path}")
    assert response.status == 200, (slug, path, response.status)
    page.evaluate("document.fonts.ready.then(() => true)")
    shown = page.evaluate(MEASURE)
    problems = []
    if path == "evaluation" and role == "researcher":  # every breakdown offered is visited
        offered = page.eval_on_selector_all("#breakdown option", "os => os.map(o => o.value)")
        assert tuple(offered) == ("", *STUDIES[slug]), offered
    if shown["scrollWidth"] > width:
        problems.append(f"the page scrolls sideways: {shown['scrollWidth']}px wide")
    for chart in shown["charts"]:
        for key in ("outside", "overlapping", "unmatched"):
            if chart[key]:
                problems.append(f"chart {chart['id']}: {key} {chart[key]}")
        if chart["right"] > width + 0.5:
            problems.append(f"chart {chart['id']} is wider than the window")
        if width <= 375 and chart["small"]:
            problems.append(f"chart {chart['id']}: text drawn under 12px {chart['small']}")
    problems += [f"table {t['caption']!r} neither fits nor scrolls in a focusable, labelled "
                 "region" for t in shown["tables"] if not (t["fits"] or t["region"])]
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    violations = []
    if not contrast:
        options["rules"] = {"color-contrast": {"enabled": False}}
        if width == max(WIDTHS):  # colours do not change with the width
            violations += axe.run(page, context=SAMPLED, options={
                "runOnly": {"type": "rule", "values": ["color-contrast"]},
                "resultTypes": ["violations"]}).response["violations"]
    violations += axe.run(page, options=options).response["violations"]
    problems += [f"axe {v['id']}: {v['help']} at "
                 + ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:4])
                 for v in violations]
    assert not problems, f"{slug}/{path} as {role} at {width}px:\n" + "\n".join(problems)


def test_every_chart_has_a_legend_whose_symbols_are_its_marks(tabs, server):
    """The charts with a legend (diverging, before and after) are found and checked above;
    here: they are drawn on the demo's EHD report, so the checks are not vacuous."""
    page = tabs["researcher"]
    page.set_viewport_size({"width": 375, "height": 900})
    page.goto(f"{server}/reports/ehd-2024/evaluation")
    charts = page.evaluate(MEASURE)["charts"]
    legends = [c for c in charts if c["legends"]]
    assert len(legends) >= 2, charts
    assert all(not c["unmatched"] for c in legends), legends
