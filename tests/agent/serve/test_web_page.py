"""The web page of ``muie serve`` in a real headless Chromium (the system's, driven by
Playwright), against the real server and models: give the token, drop the photo and its
caption, type a schema, run, watch the steps, see the masks and the entities, ask where
the coffee cup is and get the answer citing its region. Nothing outside the server is
fetched; screenshots are kept in the test's folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, sync_playwright

from muie.agent.serve.app import create_app
from muie.settings import Settings
from tests.support.llm_server import serve_in_thread
from tests.support.paths import ROOT

TOKEN = "page-token"
EXAMPLES = ROOT / "examples" / "media"
TIMEOUT_MS = 180_000


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "the system's Chromium is needed (apt-get install chromium)"
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    s = Settings(data_dir=str(tmp_path_factory.mktemp("data")), serve_token=TOKEN)
    with serve_in_thread(create_app(s)) as url:
        yield url


@pytest.fixture()
def page(server: str) -> Iterator[tuple[Page, list[str], list[str]]]:
    """A page on the server; every request that leaves it is refused and listed, and so is
    every error the page's script meets."""
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = context.new_page()

        def only_here(route: Route) -> None:
            if route.request.url.startswith(server + "/"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        pg.route("**/*", only_here)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.set_default_timeout(TIMEOUT_MS)
        try:
            yield pg, outside, errors
        finally:
            context.close()
            browser.close()


def rows(pg: Page, table: str) -> list[list[str]]:
    return pg.eval_on_selector_all(f"#{table} tbody tr",
                                   "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))")


def test_photo_and_caption_to_masks_entities_and_a_grounded_answer(
        server: str, page: tuple[Page, list[str], list[str]], tmp_path: Path) -> None:
    pg, outside, errors = page
    pg.goto(server + "/")
    assert pg.is_visible("#token-form")  # the server wants a token: the page asks for it
    pg.fill("#token", TOKEN)
    pg.click("#token-save")
    pg.wait_for_selector("#server-status:has-text('connected')")
    assert "muie-embedded" in pg.text_content("#server-status")
    assert all("401" in e for e in errors), errors  # the page's first call, before it had the token
    errors.clear()

    pg.set_input_files("#files", [str(EXAMPLES / "photo.png"), str(EXAMPLES / "caption.txt")])
    item = pg.wait_for_selector("#media-list li[data-hash]")
    assert item.get_attribute("data-kind") == "image" and "640x480" in item.text_content()
    assert pg.input_value("#text") == (EXAMPLES / "caption.txt").read_text().strip()
    pg.fill("#entity-types", "person, organization, location, object, vehicle")
    pg.fill("#relation-types", "employee_of, located_in")
    pg.fill("#event-types", "Transport(Agent, Vehicle, Origin, Destination), Meet(Participant, Place)")
    pg.screenshot(path=str(tmp_path / "1-inputs.png"), full_page=True)

    pg.click("#run")
    pg.wait_for_selector("#steps li")  # the steps come in while the agent works
    pg.wait_for_selector("#progress[data-status=done]")
    steps = pg.eval_on_selector_all("#steps li .node", "nodes => nodes.map(n => n.textContent)")
    assert steps[0] == "perceive" and steps[-1] == "finish" and "act" in steps, steps
    assert pg.text_content("#run-error") == ""

    pg.wait_for_selector("canvas.overlay[data-masks]:not([data-masks='0'])")  # masks drawn
    entities = rows(pg, "entities")
    cup = next(r for r in entities if r[1] == "coffee cup")
    assert cup[2] == "object" and "image0 box" in cup[4] and "mask" in cup[4] and "text[" in cup[4]
    assert any(r[1] == "NASA" for r in entities)
    box = [float(v) for v in cup[4].split("image0 box [")[1].split("]")[0].split(",")]
    overlay: dict[str, Any] = pg.evaluate(
        """([x0, y0, x1, y1]) => {
             const c = document.querySelector('canvas.overlay');
             const ctx = c.getContext('2d');
             const inside = ctx.getImageData(Math.round((x0 + x1) / 2), Math.round((y0 + y1) / 2), 1, 1).data;
             const all = ctx.getImageData(0, 0, c.width, c.height).data;
             let painted = 0;
             for (let i = 3; i < all.length; i += 4) if (all[i] > 0) painted++;
             const img = document.querySelector('.stage img');
             return {inside: [...inside], painted, total: c.width * c.height, size: [c.width, c.height],
                     loaded: img.complete && img.naturalWidth, regions: +c.dataset.regions};
           }""", box)
    assert overlay["size"] == [640, 480] and overlay["loaded"] == 640
    assert overlay["inside"][3] > 0  # the cup's mask is painted over its middle
    assert 0.02 < overlay["painted"] / overlay["total"] < 0.6  # masks, not the whole picture
    assert overlay["regions"] >= 3
    assert pg.text_content("#result figcaption").startswith("image0")
    assert pg.eval_on_selector("#text-view", "v => v.querySelectorAll('mark').length") >= 3
    pg.screenshot(path=str(tmp_path / "2-result.png"), full_page=True)

    pg.fill("#question", "where is the coffee cup?")
    pg.press("#question", "Enter")
    answer = pg.wait_for_selector(".answer[data-source]")
    text = answer.query_selector(".a").text_content()
    assert "coffee cup" in text and "image0" in text, text
    cited = answer.query_selector_all("li[data-kind=region]")
    assert cited and "coffee cup" in cited[0].text_content() and "image0 box" in cited[0].text_content()
    assert pg.get_attribute("canvas.highlight", "data-cited") == "1"  # the cited region is drawn around
    assert "cited" in pg.get_attribute("#entities tbody tr[data-entity]:has-text('coffee cup')", "class")
    pg.screenshot(path=str(tmp_path / "3-answer.png"), full_page=True)

    assert outside == [] and errors == [], (outside, errors)
    for name in ("1-inputs.png", "2-result.png", "3-answer.png"):
        assert (tmp_path / name).stat().st_size > 20_000
