"""Every console page at a phone's width (390 px) and a desktop's, in Debian's chromium.

Nothing may stick out of the viewport (no sideways scrolling, no clipped column): each
visible element's box must lie inside the window. The menu folds behind a button on a
phone, and tables become stacked rows. Screenshots land in tests/screenshots/.
"""

from __future__ import annotations

import pytest

from tests.console.conftest import DESKTOP, PHONE, shot

# Debian's chromium comes with `make system-deps`: never skipped for a missing package.
pytestmark = [pytest.mark.browser]

# Every visible element whose box (or text) leaves the window (a 1 px rounding allowed).
OUTSIDE = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    if (getComputedStyle(el).visibility === "hidden") continue;
    // Text wider than its box spills out without a box of its own: count it too.
    const spills = getComputedStyle(el).overflowX === "visible" &&
      el.scrollWidth > el.clientWidth + 1 && box.left + el.scrollWidth > width + 1;
    if (box.right > width + 1 || box.left < -1 || spills) {
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
               (el.className && typeof el.className === "string" ? "." + el.className : "") +
               " " + Math.round(box.left) + ".." + Math.round(box.right));
    }
  }
  return {width: width, scroll: document.documentElement.scrollWidth, out: out.slice(0, 8)};
}"""


def fits(page) -> None:
    got = page.evaluate(OUTSIDE)
    assert got["scroll"] <= got["width"] + 1 and not got["out"], (page.url, got)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_page_fits_the_window(page_for, server, busy_day, size):
    page = page_for("admin", mobile=size == "phone")
    assert page.viewport_size == (PHONE if size == "phone" else DESKTOP)
    for name, path in busy_day.items():
        response = page.goto(server + path)
        assert response.status == 200, path
        fits(page)
        shot(page, f"{size}-{name}")


def test_the_menu_folds_on_a_phone_and_opens(page_for, server):
    page = page_for("dieuphoi", mobile=True)
    page.goto(server + "/console/dashboard")
    assert page.is_hidden("nav.menu") and page.is_visible("label.nav-button")
    page.click("label.nav-button")
    assert page.is_visible("nav.menu a[href$='/console/people']")
    fits(page)
    shot(page, "phone-menu-open")
    page.click("nav.menu a[href$='/console/people']")
    page.wait_for_url("**/console/people")
    assert page.is_hidden("nav.menu")

    desktop = page_for("dieuphoi")
    desktop.goto(server + "/console/dashboard")
    assert desktop.is_visible("nav.menu a[href$='/console/people']")
    assert desktop.is_hidden("label.nav-button")


def test_tables_become_stacked_rows_on_a_phone(page_for, server, busy_day):
    page = page_for("dieuphoi", mobile=True)
    page.goto(server + busy_day["cases"])
    first = page.locator("#case-list tbody tr").first
    cells = first.locator("td")
    assert cells.count() >= 5
    # One cell under the other, each named after its column.
    boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
    assert all(b["y"] < c["y"] for b, c in zip(boxes, boxes[1:], strict=False))
    assert cells.nth(cells.count() - 1).get_attribute("data-label") == "Ngày mở"
    assert page.is_hidden("#case-list thead")
