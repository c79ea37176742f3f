"""The validator page in a real browser (Debian's chromium driven by Playwright), served by the
local stack: what a partner sees for a valid and a refused event, and where the key goes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import KEYS

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")  # `make test` installs Debian's chromium when it is missing
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def browser_page(stack: str, tmp_path: Path) -> Iterator[tuple[Any, list[Any]]]:
    """A page in a fresh chromium profile, and every request the page made."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "chromium is missing: run `make test`, which installs it"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS,
        )
        requests: list[Any] = []
        page = context.new_page()
        page.on("request", lambda request: requests.append(request))
        page.set_default_timeout(20_000)
        yield page, requests
        context.close()


def _validate(page: Any, event_text: str | None = None) -> None:
    if event_text is not None:
        page.fill("#event", event_text)
    page.click("#validate")
    page.wait_for_selector("#result.valid, #result.invalid")


def test_a_partner_validates_a_good_and_a_bad_event_and_sees_why(browser_page, stack, tmp_path):
    page, requests = browser_page
    page.goto(stack + "/validator")
    assert page.title() == "Ledgerline event validator"

    # A documented example, picked from the list, is valid: a green result with its outcome.
    page.select_option("#example", label="client: Create an individual client")
    assert '"client_id": "CL-1001"' in page.input_value("#event")
    page.fill("#key", KEYS["browser"])
    _validate(page)
    result = page.locator("#result")
    assert result.get_attribute("class") == "valid"
    assert result.inner_text().startswith("Valid: outcome create")
    assert result.evaluate("e => getComputedStyle(e).color") == "rgb(29, 122, 58)"
    assert page.locator("tr[data-field='data.name'] td.ok").inner_text() == "ok"

    # A broken loan: each violation is shown next to its own field, in red.
    _validate(page, """{"category": "disbursement", "data": {"disbursement_id": "BR-L1", "step": "create",
        "kind": "loan", "client_id": "CL-1001", "disbursement_amount": 1000, "currency": "EURO",
        "total_expected_margin": 10, "disbursement_date": "2024-10-20", "maturity_date": "2024-01-01"}}""")
    assert result.get_attribute("class") == "invalid"
    assert "Validation error (422)" in result.inner_text()
    currency = page.locator("tr[data-field='data.currency']")
    assert currency.get_attribute("class") == "has-error"
    assert "ISO 4217" in currency.locator("td.violation").inner_text()
    assert "after" in page.locator("tr[data-field='data.maturity_date'] td.violation").inner_text()
    assert page.locator("tr[data-field='data.kind'] td.ok").inner_text() == "ok"
    page.screenshot(path=str(tmp_path / "validator.png"), full_page=True)
    assert (tmp_path / "validator.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Checks against stored data come through too: the client of this loan does not exist yet.
    _validate(page, page.input_value("#event").replace('"EURO"', '"EUR"').replace("2024-01-01", "2025-01-01"))
    assert "Unknown reference (422)" in result.inner_text()
    assert "does not exist" in page.locator("tr[data-field='data.client_id'] td.violation").inner_text()

    # The key went only to this API, as a header, and the page kept it nowhere.
    assert {urlsplit(r.url).netloc for r in requests} == {urlsplit(stack).netloc}
    posts = [r for r in requests if r.method == "POST"]
    assert posts and all(r.url == stack + "/validate" for r in posts)
    assert all(r.headers["authorization"] == f"Bearer {KEYS['browser']}" for r in posts)
    assert all(KEYS["browser"] not in r.url for r in requests)
    assert page.evaluate("() => [localStorage.length, sessionStorage.length, document.cookie]") == [0, 0, ""]


def test_without_a_key_the_page_says_so_and_sends_nothing(browser_page, stack):
    page, requests = browser_page
    page.goto(stack + "/validator")
    page.select_option("#example", index=1)
    _validate(page)
    assert page.inner_text("#result").startswith("Enter your API key")
    assert [r.method for r in requests] == ["GET"]
