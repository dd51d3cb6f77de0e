"""End to end in headless Chromium (Debian's package, driven by Playwright): load the page, send a message,
see a streamed reply and the persona panel, save a screenshot under artifacts/ (git-ignored).

EMPATH_E2E_REAL=1 runs it on the real offline-default pipeline instead of the tiny test model
(that is how the README screenshot is made)."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make browser)")]
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
REAL = os.environ.get("EMPATH_E2E_REAL") == "1"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from app import build_app
    from empath.arena import VoteStore

    if REAL:
        from empath.pipeline import EmpathPipeline

        pipe = EmpathPipeline().warm_up()
    else:
        from tests.test_pipeline import make_pipeline

        pipe, _ = make_pipeline()
    demo = build_app(pipe, VoteStore(tmp_path_factory.mktemp("db") / "votes.sqlite"))
    demo.queue(default_concurrency_limit=1)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    yield url
    demo.close()


def test_chat_in_a_real_browser(app_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    message = "I lost my job last week and I feel worthless." if REAL else "I feel so alone since the breakup."
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            # not "networkidle": the page keeps a queue connection open (and fonts from the closed network hang)
            page.goto(app_url, wait_until="domcontentloaded", timeout=60_000)
            page.locator("#message textarea").wait_for(timeout=60_000)
            page.locator("#message textarea").fill(message)
            page.locator("#send").click()
            bot = page.locator("#chatbot .message.bot, #chatbot [data-testid='bot']").last
            bot.wait_for(timeout=120_000)
            # the reply streams: the strategy tag appears first, then text keeps growing
            page.wait_for_function(
                "() => { const b = document.querySelectorAll('#chatbot [data-testid=\"bot\"]');"
                " return b.length && b[b.length-1].innerText.trim().length > 20; }", timeout=240_000)
            persona = page.locator("#persona").inner_text()
            assert "Persona:" in persona and "chosen on your first message" not in persona
            if not REAL:
                assert "Juliet" in persona
            # finished = the reply's text has not changed for 3 s (no CSS class marks the end of a stream)
            page.wait_for_function(
                "() => { const b = document.querySelectorAll('#chatbot [data-testid=\"bot\"]');"
                " const t = b.length ? b[b.length-1].innerText : ''; const now = Date.now();"
                " if (t !== window.__lastReply) { window.__lastReply = t; window.__since = now; return false; }"
                " return now - window.__since > 3000; }", timeout=240_000, polling=500)
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # the emotion radar rendered
            SHOTS.mkdir(parents=True, exist_ok=True)
            shot = SHOTS / ("chat-real.png" if REAL else "chat.png")
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            assert message in page.locator("#chatbot").inner_text()
        finally:
            browser.close()
