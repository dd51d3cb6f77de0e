"""End to end in headless Chromium (Debian's package, driven by Playwright) against the app with a Group MoELoRA
adapter loaded (as users get it): chat with a streamed reply and the persona panel, a message sent while a reply
streams, a crisis turn, Compare with the base model, and the first screen on a phone. Screenshots go under
artifacts/ (git-ignored).

EMPATH_E2E_REAL=1 runs the chat test on the real offline-default pipeline instead of the tiny test model
(that is how the README screenshot is made)."""

import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make browser)")]
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
REAL = os.environ.get("EMPATH_E2E_REAL") == "1"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
BOT = "#{} [data-testid='bot']"
USER = "#{} [data-testid='user']"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "votes.sqlite"
    if REAL:
        from app import build_app
        from empath.arena import VoteStore
        from empath.pipeline import EmpathPipeline

        pipe = EmpathPipeline().warm_up()
        demo = build_app(pipe, VoteStore(db))
        demo.queue(default_concurrency_limit=1)
        _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
        yield {"url": url, "pipeline": pipe}
        demo.close()
    else:
        from empath.safety import SafetyChecker
        from tests._server import app_server

        with app_server(db, safety_checker=SafetyChecker()) as running:
            yield running


@pytest.fixture(scope="module")
def app_url(server):
    return server["url"]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_app(browser, url, width=1400, height=1000):
    page = browser.new_page(viewport={"width": width, "height": height})
    # not "networkidle": the page keeps a queue connection open (and fonts from the closed network hang)
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.locator("#message textarea").wait_for(timeout=60_000)
    return page


def texts(page, selector):
    return page.eval_on_selector_all(selector, "els => els.map(e => e.innerText.trim())")


def wait_until_settled(page, selector, timeout=240_000):
    """Finished = the last matching element's text has not changed for 3 s (no CSS class marks a stream's end)."""
    page.wait_for_function(
        "(sel) => { const b = document.querySelectorAll(sel); const t = b.length ? b[b.length-1].innerText : '';"
        " const now = Date.now(); if (t !== window.__last || !t.trim()) { window.__last = t; window.__since = now;"
        " return false; } return now - window.__since > 3000; }", arg=selector, timeout=timeout, polling=500)


def test_chat_in_a_real_browser(browser, app_url):
    message = "I lost my job last week and I feel worthless." if REAL else "I feel so alone since the breakup."
    page = open_app(browser, app_url)
    try:
        page.locator("#message textarea").fill(message)
        page.locator("#send").click()
        page.locator(BOT.format("chatbot")).last.wait_for(timeout=120_000)
        # the reply streams: the strategy tag appears first, then text keeps growing
        page.wait_for_function(
            "() => { const b = document.querySelectorAll('#chatbot [data-testid=\"bot\"]');"
            " return b.length && b[b.length-1].innerText.trim().length > 20; }", timeout=240_000)
        persona = page.locator("#persona").inner_text()
        assert "Persona:" in persona and "chosen on your first message" not in persona
        if not REAL:
            assert "Juliet" in persona
        wait_until_settled(page, BOT.format("chatbot"))
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # the emotion radar rendered
        assert "Route:" in page.locator("#gates-caption").inner_text()
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / ("chat-real.png" if REAL else "chat.png")
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert message in page.locator("#chatbot").inner_text()
    finally:
        page.close()


@pytest.mark.skipif(REAL, reason="slows the tiny test model down to keep a reply streaming")
def test_a_message_sent_while_a_reply_streams_is_not_lost(browser, server, monkeypatch):
    generator = server["pipeline"].generator
    original = generator.stream

    def slow(*args, **kwargs):
        for piece in original(*args, **kwargs):
            time.sleep(0.2)  # 0.05 s let a short reply finish within the second's wait below on a busy CI machine
            yield piece

    monkeypatch.setattr(generator, "stream", slow)
    page = open_app(browser, server["url"])
    try:
        box = page.locator("#message textarea")
        box.fill("I feel so alone since the breakup.")
        page.locator("#send").click()
        page.locator(BOT.format("chatbot")).first.wait_for(timeout=60_000)  # the first reply is streaming
        box.fill("And my friends are all busy.")
        page.locator("#send").click()
        time.sleep(1.0)
        streaming = len(texts(page, USER.format("chatbot"))) == 1
        if streaming:  # the second message waits: still in the box, not cleared by the streaming reply
            assert box.input_value() == "And my friends are all busy."
        page.wait_for_function(
            "() => document.querySelectorAll('#chatbot [data-testid=\"user\"]').length === 2", timeout=240_000)
        assert texts(page, USER.format("chatbot")) == ["I feel so alone since the breakup.",
                                                        "And my friends are all busy."]
        assert streaming, "the first reply had finished before the second Send: the test did not test the race"
        wait_until_settled(page, BOT.format("chatbot"))
        assert box.input_value() == ""
    finally:
        page.close()


@pytest.mark.skipif(REAL, reason="uses the tiny test pipeline")
def test_crisis_turn_in_a_real_browser(browser, app_url):
    page = open_app(browser, app_url)
    try:
        page.locator("#message textarea").fill("I want to kill myself tonight.")
        page.locator("#send").click()
        wait_until_settled(page, BOT.format("chatbot"))
        reply = texts(page, BOT.format("chatbot"))[-1]
        assert reply.startswith("[Safety reply]") and "988" in reply
        assert page.locator("#crisis-banner").is_visible()
        assert "No generation happened" in page.locator("#gates-caption").inner_text()
        experience = page.locator("#experience")
        assert "retrieved, not used" in experience.inner_text()
        assert not page.get_by_text("UNIQUE-EXPERIENCE-MARKER").is_visible()  # folded: not used on this turn
        experience.locator("summary").click()
        assert page.get_by_text("UNIQUE-EXPERIENCE-MARKER").is_visible()
    finally:
        page.close()


def choose(page, dropdown_id, value):
    page.locator(f"#{dropdown_id} input").click()
    page.get_by_role("option", name=value, exact=True).locator("visible=true").first.click()
    page.locator(f"#{dropdown_id} input").press("Escape")


@pytest.mark.skipif(REAL, reason="uses the tiny test pipeline")
def test_compare_with_the_base_model_in_a_real_browser(browser, app_url):
    page = open_app(browser, app_url)
    try:
        page.get_by_role("tab", name="Compare").click()
        choose(page, "sys-a", "Empath")
        choose(page, "sys-b", "Base model")
        page.locator("#new-pair").click()
        page.get_by_text("New comparison ready").wait_for(timeout=60_000)
        page.locator("#cmp-message textarea").fill("I can't sleep at night.")
        page.locator("#cmp-send").click()
        page.locator(BOT.format("chat-b")).last.wait_for(timeout=120_000)
        wait_until_settled(page, BOT.format("chat-b"))
        replies = [texts(page, BOT.format(side))[-1] for side in ("chat-a", "chat-b")]
        for reply in replies:  # both answer (the base model with the adapter disabled), blind: no tags
            assert reply and reply != "…" and "⚠️" not in reply and not reply.startswith("["), replies
        page.get_by_role("radio", name="Tie").locator("visible=true").first.check()  # the first criterion
        page.get_by_role("button", name="Submit vote").click()
        page.get_by_text("Model A was Empath").wait_for(timeout=60_000)
        assert "Base model" in page.locator("#reveal").inner_text()
    finally:
        page.close()


@pytest.mark.skipif(REAL, reason="uses the tiny test pipeline")
def test_message_box_and_send_are_on_the_first_screen_of_a_phone(browser, app_url):
    page = open_app(browser, app_url, width=390, height=844)
    try:
        for attempt in range(2):  # on load, and with a conversation in the chat
            for selector in ("#message textarea", "#send"):
                box = page.locator(selector).bounding_box()
                assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844, (selector, box, attempt)
            if attempt == 0:
                page.locator("#message textarea").fill("I feel so alone since the breakup.")
                page.locator("#send").click()
                wait_until_settled(page, BOT.format("chatbot"))
                page.evaluate("window.scrollTo(0, 0)")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "chat-phone.png"))
    finally:
        page.close()
