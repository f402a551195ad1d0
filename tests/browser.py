"""The report opened in headless Chromium (through Playwright): what rendered, what failed, what
a click on a plotted point opens."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
NO_CHROMIUM = "no Chromium on the PATH (Debian: apt-get install chromium)"

# For each section that holds an SVG: its rendered width and height in CSS pixels.
SVG_SIZES = """() => Object.fromEntries([...document.querySelectorAll('section[id]')]
  .filter(s => s.querySelector('svg'))
  .map(s => { const r = s.querySelector('svg').getBoundingClientRect();
              return [s.id, [r.width, r.height]]; }))"""

# The first linked point of a section that a click can reach (not covered by another
# element, inside the plotting area): its link and the viewport position to click.
CLICKABLE = """(id) => {
  const links = [...document.querySelectorAll(`section#${id} svg a`)];
  for (const a of links) {
    a.scrollIntoView({block: 'center'});
    const svg = a.ownerSVGElement.getBoundingClientRect();
    const r = a.getBoundingClientRect();
    const x0 = Math.max(r.left, svg.left), x1 = Math.min(r.right, svg.right);
    const y0 = Math.max(r.top, svg.top), y1 = Math.min(r.bottom, svg.bottom);
    if (x1 <= x0 || y1 <= y0) continue;
    for (const [fx, fy] of [[0.5, 0.5], [0.5, 0.1], [0.5, 0.9], [0.2, 0.5], [0.8, 0.5]]) {
      const x = x0 + fx * (x1 - x0), y = y0 + fy * (y1 - y0);
      const hit = document.elementFromPoint(x, y);
      if (hit && hit.closest('a') === a)
        return {href: a.getAttribute('xlink:href') || a.getAttribute('href'), x, y};
    }
  }
  return null;
}"""


@dataclass
class Visit:
    """What loading a page did: console errors, failed and outside requests."""

    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@contextmanager
def report_page(index: Path, width: int = 1280) -> Iterator[tuple[Page, Visit]]:
    """`index` loaded in headless Chromium with every request off the disk answered by a stub
    (and recorded), so nothing leaves the machine."""
    visit = Visit()

    def route(r: Route) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            visit.outside.append(r.request.url)
            r.fulfill(status=200, content_type="text/html", body="<title>outside</title>")

    with sync_playwright() as pw:
        browser: Browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            ctx: BrowserContext = browser.new_context(viewport={"width": width, "height": 900})
            ctx.route("**/*", route)
            page = ctx.new_page()
            page.on("console", lambda m: m.type == "error" and visit.errors.append(m.text))
            page.on("pageerror", lambda e: visit.errors.append(str(e)))
            page.on("requestfailed", lambda r: visit.failed.append(r.url))
            page.goto(index.as_uri(), wait_until="load")
            yield page, visit
        finally:
            browser.close()


def svg_sizes(page: Page) -> dict[str, tuple[float, float]]:
    """Rendered size of the SVG of every section that has one."""
    return {k: (w, h) for k, (w, h) in page.evaluate(SVG_SIZES).items()}


def click_a_point(page: Page, section: str) -> tuple[str, str]:
    """Click the first reachable linked point of `section`'s figure: (its link, the URL of the
    page the click opened)."""
    spot = page.evaluate(CLICKABLE, section)
    assert spot is not None, f"{section}: no linked point a click can reach"
    with page.context.expect_page() as opened:
        page.mouse.click(spot["x"], spot["y"])
    new = opened.value
    new.wait_for_load_state()
    url = new.url
    new.close()
    return spot["href"], url


def overflow(page: Page) -> int:
    """Pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
