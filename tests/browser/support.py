"""What the browser tests share: constants, the per-page checks and the run's findings.

`Browse.arrived(label)` is called after every navigation. It runs axe-core with the WCAG
2.0, 2.1 and 2.2 A and AA rules, makes the design checks axe cannot make (skip link first,
one h1 before the form controls, labels and hints from the design system, the language
toggle, the error prefix in the title, no sideways scrolling where asked), and for client
pages measures the bytes transferred and checks nothing is loaded beyond the design
system and the app's own files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, Request

from surveys.i18n import translate
from surveys.web.setup import GOVUK_DIST

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Client pages meet axe's best-practice rules too (landmarks, `region`, heading order).
CLIENT_AXE_TAGS = [*AXE_TAGS, "best-practice"]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"

PHONE = {"width": 375, "height": 812}
NARROW = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 900}

# What a client page may load: the page itself, the design system's CSS and JavaScript,
# the app's stylesheet and start-up script, the favicon and what the CSS refers to.
CLIENT_ASSETS = {
    "/govuk/govuk-frontend.min.css",
    "/govuk/govuk-frontend.min.js",
    "/static/app.css",
    "/static/init.js",
    "/assets/images/favicon.ico",
} | set(
    re.findall(r"url\((/assets/[^)\"']+)\)", (GOVUK_DIST / "govuk-frontend.min.css").read_text())
)


# --- what the whole run found, printed at the end -------------------------------------


@dataclass
class Weight:
    size: int  # bytes transferred: response headers and bodies, nothing from a cache
    parts: list[tuple[str, int]]  # (path, bytes) of each response
    example: str  # the journey and page it was measured on


@dataclass
class Findings:
    pages_scanned: int = 0
    violations: int = 0  # rule failures, summed over the pages scanned
    rules_run: set[str] = field(default_factory=set)
    # The heaviest load seen of each client page, by path, language and JavaScript.
    weights: dict[str, Weight] = field(default_factory=dict)

    def weigh(self, key: str, weight: Weight) -> None:
        if key not in self.weights or self.weights[key].size < weight.size:
            self.weights[key] = weight

    def heaviest(self) -> tuple[str, Weight]:
        return max(self.weights.items(), key=lambda kv: kv[1].size)

    def lines(self, *, detail: bool = False) -> list[str]:
        out = [
            f"browser: {self.pages_scanned} pages scanned by axe-core, {len(self.rules_run)} "
            f"rules ({', '.join(AXE_TAGS)}; client pages also best-practice), "
            f"{self.violations} violations",
        ]
        if not self.weights:
            return out
        out.append("client pages, bytes transferred on a first visit (headers and bodies):")
        for key, weight in sorted(self.weights.items()):
            out.append(f"  {weight.size:>9,} B in {len(weight.parts)} responses  {key}"
                       + (f"  ({weight.example})" if detail else ""))
        key, weight = self.heaviest()
        out.append(f"heaviest client page: {key}, {weight.size:,} bytes ({weight.example})")
        if detail:
            out.extend(f"  {size:>9,} B  {path}" for path, size in weight.parts)
        return out


# --- the checks made on every page ------------------------------------------------------

# Run in the page by `Browse.arrived`; returns the problems found and a few facts.
DESIGN_CHECKS = (Path(__file__).parent / "design_checks.js").read_text()


class Browse:
    """A tab whose every page is checked; `arrived(label)` after each navigation."""

    def __init__(self, page: Page, base_url: str, axe: Axe, findings: Findings, test: str,
                 *, client: bool, javascript: bool = True) -> None:
        self.page = page
        self.javascript = javascript
        self._mirror: Page | None = None
        self._loading = False
        self.base_url = base_url
        self.axe = axe
        self.findings = findings
        self.test = test
        self.client = client
        self.requests: list[Request] = []
        self.unchecked: list[str] = []
        if client:
            # Weigh every page as a first visit would: nothing from the HTTP cache.
            cdp = page.context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.on("request", self._request)
        page.on("framenavigated", self._navigated)

    def _request(self, request: Request) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.requests = []
            self._loading = True
        self.requests.append(request)

    def _navigated(self, frame) -> None:
        # A new document, not a jump within the page (a skip link, an error summary link).
        if frame == self.page.main_frame and self._loading:
            self._loading = False
            self.unchecked.append(frame.url)

    @property
    def lang(self) -> str:
        return self.page.evaluate("document.documentElement.lang")

    def text(self, message: str, **params) -> str:
        """The service's words in the language of the page shown (from the catalogs)."""
        return translate(message, self.lang, **params)

    def settled(self) -> Page:
        """Wait for the new document a click or key press asked for, and for it to load."""
        if not self.unchecked:
            self.page.wait_for_event("framenavigated", lambda frame: bool(self.unchecked))
        self.page.wait_for_load_state("load")
        return self.page

    def goto(self, url: str, label: str, **expect) -> Page:
        self.page.goto(url if url.startswith("http") else self.base_url + url)
        return self.arrived(label, **expect)

    def arrived(self, label: str, *, screenshot: str | None = None,
                max_width: int | None = None) -> Page:
        """Check the page now shown: design, axe-core, weight, width; maybe photograph it."""
        page = self.settled()
        page.evaluate("document.fonts.ready.then(() => true)")
        state = page.evaluate(DESIGN_CHECKS)
        problems = list(state["problems"])
        if state["errorSummary"]:
            prefix = translate("Error:", state["lang"])
            if not state["title"].startswith(prefix + " "):
                problems.append(f"title {state['title']!r} lacks the error prefix {prefix!r}")
            elif state["title"].startswith(f"{prefix} {prefix}"):
                problems.append(f"title {state['title']!r} repeats the error prefix")
        elif state["title"].startswith(translate("Error:", state["lang"])):
            problems.append(f"title {state['title']!r} has an error prefix but no error summary")
        if max_width is not None and state["scrollWidth"] > state["clientWidth"]:
            problems.append(f"scrolls sideways: {state['scrollWidth']}px of content in "
                            f"{state['clientWidth']}px")
        elif max_width is not None and state["scrollWidth"] > max_width:
            problems.append(f"scrolls sideways: {state['scrollWidth']}px wide in a "
                            f"{max_width}px window")
        assert not problems, f"{label} ({page.url}): " + "; ".join(problems)
        if self.client:
            self._weigh(label)
        self._axe(label)
        if screenshot:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / screenshot, full_page=True,
                            animations="disabled", caret="hide")
        self.unchecked.clear()
        return page

    def _axe_page(self) -> Page:
        """The page for axe-core to examine.

        axe-core needs the page's timers, which a context without JavaScript never runs;
        there it examines a copy: the same HTML and stylesheets in a tab whose own scripts
        are blocked, so the DOM is exactly what the client without JavaScript gets."""
        if self.javascript:
            return self.page
        if self._mirror is None:
            context = self.page.context.browser.new_context(viewport=self.page.viewport_size)
            self._mirror = context.new_page()
        mirror, url, html = self._mirror, self.page.url.split("#")[0], self.page.content()

        def serve(route):
            if route.request.url == url and route.request.resource_type == "document":
                route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
            elif route.request.resource_type == "script":
                route.abort()
            else:
                route.continue_()

        mirror.unroute("**/*")
        mirror.route("**/*", serve)
        mirror.goto(url)
        assert not mirror.evaluate("document.body.classList.contains('js-enabled')")
        return mirror

    def close(self) -> None:
        if self._mirror is not None:
            self._mirror.context.close()

    def _axe(self, label: str) -> None:
        results = self.axe.run(self._axe_page(), options={
            "runOnly": {"type": "tag", "values": CLIENT_AXE_TAGS if self.client else AXE_TAGS},
            "resultTypes": ["violations"],
        }).response
        self.findings.pages_scanned += 1
        for kind in ("violations", "passes", "incomplete", "inapplicable"):
            self.findings.rules_run.update(rule["id"] for rule in results[kind])
        self.findings.violations += len(results["violations"])
        violations = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(" ".join(map(str, node["target"])) for node in v["nodes"])
            for v in results["violations"]
        ]
        assert not violations, f"axe-core on {label} ({self.page.url}):\n" + "\n".join(violations)

    def _weigh(self, label: str) -> None:
        parts = []
        for request in self.requests:
            response = request.response()
            if response is None:
                continue
            response.finished()
            sizes = request.sizes()
            url = urlsplit(request.url)
            parts.append((f"{url.scheme}://{url.netloc}{url.path}",
                          sizes["responseBodySize"] + sizes["responseHeadersSize"]))
        extra = [path for path, _ in parts[1:]
                 if path.removeprefix(self.base_url) not in CLIENT_ASSETS]
        assert parts and parts[0][0] == self.page.url.split("?")[0].split("#")[0], parts
        assert not extra, f"{label} loads more than the design system and the page: {extra}"
        path = urlsplit(self.page.url).path
        key = f"{path} [{self.lang}{'' if self.javascript else ', no JavaScript'}]"
        self.findings.weigh(key, Weight(sum(size for _, size in parts),
                                        [(p.removeprefix(self.base_url), n) for p, n in parts],
                                        f"{self.test}: {label}"))


def link_from(message, base_url: str) -> str:
    """The personal link in an email's plain-text body."""
    body = message.get_body(("plain",)).get_content()
    match = re.search(re.escape(base_url) + r"/r/[A-Za-z0-9_-]+", body)
    assert match, f"no personal link in the email: {body!r}"
    return match.group(0)



# --- setting up a study and walking a questionnaire -------------------------------------

PARTICIPANTS_HEADER = (
    "participant_ref,site,completed_on,language,email,phone,"
    "workability_end,confidence_end,importance_end\n"
)


def cohort_csv(*people: tuple) -> str:
    """A participants.csv: (ref, completed_on, language, email, (work, conf, imp)) rows."""
    rows = [
        f"{ref},Cardiff,{completed.isoformat()},{language},{email},,{','.join(map(str, scores))}"
        for ref, completed, language, email, scores in people
    ]
    return PARTICIPANTS_HEADER + "\n".join(rows) + "\n"


def load_cohort(session_factory, *people: tuple) -> None:
    """Import participants into the default study, as `surveys import-cohort` does."""
    from surveys.cohort.importer import import_cohort
    from surveys.studies import resolve_study

    with session_factory() as session:
        study = resolve_study(session, None, create=True)
        import_cohort(session, study, cohort_csv(*people))
        session.commit()


QUESTION_CONTROLS = "main form input[type=radio], main form input[type=checkbox], main textarea"


def fill_page(page: Page, answers: dict) -> dict:
    """Answer every question on a questionnaire page: the given answer, else the first
    choice (free text is left blank unless given). Returns what was chosen."""
    chosen = {}
    names = page.eval_on_selector_all(
        QUESTION_CONTROLS, "els => [...new Set(els.map(e => e.name + ' ' + e.type))]"
    )
    for name, kind in (entry.split(" ") for entry in names):
        value = answers.get(name)
        if kind == "textarea":
            if value:
                page.fill(f'textarea[name="{name}"]', value)
                chosen[name] = value
            continue
        values = value if isinstance(value, list) else [value] if value else []
        if not values:
            values = [page.get_attribute(f'input[name="{name}"]', "value")]
        for one in values:
            page.check(f'input[name="{name}"][value="{one}"]')
        chosen[name] = values if kind == "checkbox" else values[0]
    return chosen


def page_id(page: Page) -> str:
    return urlsplit(page.url).path.rsplit("/", 1)[-1]


def answer_all(b: Browse, answers: dict, prefix: str, *, screenshots: dict | None = None,
               max_width: int | None = None) -> list[str]:
    """From a question page, answer and continue until check-answers; send.

    Returns the question page ids seen. `screenshots` maps page ids to file names."""
    page = b.page
    screenshots = screenshots or {}
    seen = []
    for _ in range(40):
        current = page_id(page)
        if current == "check":
            break
        seen.append(current)
        if b.unchecked:  # (the caller may have checked the first page already)
            b.arrived(f"{prefix}: question {current}", screenshot=screenshots.get(current),
                      max_width=max_width)
        fill_page(page, answers)
        page.get_by_role("button", name=b.text("Continue"), exact=True).click()
        b.settled()
    else:
        raise AssertionError(f"never reached check-answers: {seen}")
    b.arrived(f"{prefix}: check answers", screenshot=screenshots.get("check"),
              max_width=max_width)
    page.get_by_role("button", name=b.text("Send answers")).click()
    b.arrived(f"{prefix}: answers sent", max_width=max_width)
    return seen


FOCUSED = """() => {
  const el = document.activeElement;
  return {tag: el.tagName.toLowerCase(), type: el.type || '', name: el.name || '',
          value: el.value || '', text: (el.innerText || el.textContent || '').trim(),
          classes: String(el.className || ''), checked: !!el.checked};
}"""


def focused(page: Page) -> dict:
    return page.evaluate(FOCUSED)


def tab_until(page: Page, wanted, limit: int = 80) -> dict:
    """Press Tab until the focused element satisfies `wanted(info)`; return its info."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = focused(page)
        if wanted(info):
            return info
    raise AssertionError(f"Tab never reached the element wanted on {page.url}")


def single_question_page(page: Page) -> bool:
    """One question, whose legend or label is the page's only heading."""
    return page.evaluate("""() => {
      const groups = document.querySelectorAll('main form .govuk-form-group');
      const h1 = document.querySelector('h1');
      return groups.length === 1 && !!h1 &&
        h1.matches('.govuk-fieldset__heading, .govuk-label-wrapper');
    }""")
