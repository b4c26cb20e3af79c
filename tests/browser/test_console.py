"""The web console in a real browser: Debian's headless Chromium driven by Selenium, against a live ``slipway serve``.

The fixture starts the built binary (``.build/debug/slipway``, or ``$SLIPWAY_BINARY``) on a free port with a
temporary data folder and a known administrator token; the server verifies deployments itself. The tests sign in,
create a model in the console, deploy the iris example through the management API, watch it get verified, activate it
from the console with its confirmation step, run a playground prediction, and check that bad input (a wrong token, a
form without its CSRF token, an action the role does not allow) shows a message and changes nothing. Every page is
screenshot at 1280 and 390 px wide into ``$SLIPWAY_SCREENSHOTS`` (a temporary folder by default, printed at the end).

Chromium and chromedriver come from Debian (``apt-get install chromium chromium-driver``); without them the module is
skipped with a message. Run: ``pip install -r tests/browser/requirements.txt && swift build && pytest tests/browser``.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import sys
import tempfile
import time

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from slipway_server import running_server  # noqa: E402

EXAMPLE = ROOT / "examples" / "iris"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "browser tests skipped: Debian's chromium and chromium-driver are not installed "
        "(apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


class Slipway:
    """A running ``slipway serve`` and a small management client for it."""

    def __init__(self, url: str, admin_token: str):
        self.url = url
        self.admin_token = admin_token

    def call(self, method: str, path: str, expected: int, token: str | None = None, **kwargs) -> dict:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        response = requests.request(method, self.url + path, headers=headers, timeout=60, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}


@pytest.fixture(scope="module")
def slipway():
    with running_server("slipway-console-") as (_, url, admin_token):
        yield Slipway(url.rstrip("/"), admin_token)


@pytest.fixture(scope="module")
def screenshots():
    folder = os.environ.get("SLIPWAY_SCREENSHOTS") or tempfile.mkdtemp(prefix="slipway-console-screens-")
    pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
    yield pathlib.Path(folder)
    print(f"\nconsole screenshots: {folder}")


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def set_width(browser, width: int, height: int = 900) -> None:
    """Lays the page out as a screen `width` CSS pixels wide (a phone's below 500)."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500},
    )


def shoot(browser, folder: pathlib.Path, name: str) -> None:
    """Screenshots the current page at 1280 and 390 px wide (full height)."""
    for width in (1280, 390):
        set_width(browser, width)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        set_width(browser, width, min(max(int(height), 600), 6000))
        assert browser.get_screenshot_as_file(str(folder / f"{name}-{width}.png"))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def text(browser) -> str:
    return browser.find_element(By.TAG_NAME, "main").text


def _main_text(driver) -> str:
    """The main content's text, or "" when the page was replaced while it was read (a form post navigating)."""
    try:
        return driver.find_element(By.TAG_NAME, "main").text
    except (NoSuchElementException, StaleElementReferenceException):
        raise
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return ""
        raise


def wait_for_text(browser, fragment: str) -> None:
    """Waits until the page's main content shows `fragment` (after a form post navigates)."""
    WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(
        lambda driver: fragment in _main_text(driver),
        message=f"the page never showed {fragment!r}",
    )


def assert_fits_390(browser) -> None:
    """Checks that at 390 px nothing but tables (which scroll in their own box) is wider than the screen."""
    set_width(browser, 390)
    overflow = browser.execute_script("return document.documentElement.scrollWidth")
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert overflow <= 390, (browser.current_url, overflow)


def open_panel(browser, title: str) -> None:
    """Opens the collapsible panel (a `<details>`) whose summary reads `title`, with a click, unless it is open."""
    summary = browser.find_element(By.XPATH, f"//details/summary[normalize-space()='{title}']")
    if summary.find_element(By.XPATH, "..").get_attribute("open") is None:
        summary.click()


def sign_in(browser, slipway: Slipway, token: str) -> None:
    browser.delete_all_cookies()
    browser.get(slipway.url + "/signin")
    field = browser.find_element(By.ID, "token")
    field.send_keys(token)
    field.submit()
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.TAG_NAME, "main"))


def test_console_end_to_end(slipway, browser, screenshots):
    wait = WebDriverWait(browser, 60)

    # A wrong token: a message, no session.
    sign_in(browser, slipway, "slw_u_wrongwrongwr_" + "x" * 32)
    wait_for_text(browser, "That token does not sign you in")
    assert "That token does not sign you in" in text(browser)
    assert browser.get_cookie("slipway_session") is None
    shoot(browser, screenshots, "signin-refused")

    # Sign in as the administrator.
    sign_in(browser, slipway, slipway.admin_token)
    wait.until(expected_conditions.url_contains("/models"))
    session = browser.get_cookie("slipway_session")
    assert session and session["httpOnly"] and session.get("sameSite") == "Strict"

    # Create a model in the console, with a description that tries to run a script.
    browser.find_element(By.CSS_SELECTOR, "details.panel summary").click()
    browser.find_element(By.ID, "name").send_keys("iris")
    browser.find_element(By.ID, "description").send_keys("Iris <script>window.pwned=1</script> classifier")
    browser.find_element(By.CSS_SELECTOR, "form[method=post][action='/models'] button[type=submit]").click()
    wait.until(expected_conditions.url_contains("/models/admin/iris"))
    assert "Iris <script>window.pwned=1</script> classifier" in text(browser)
    assert browser.execute_script("return window.pwned === undefined")
    shoot(browser, screenshots, "model-empty")

    # Deploy the iris example through the API; the server verifies it with its samples.
    files = {"model": ("model.onnx", (EXAMPLE / "model.onnx").read_bytes(), "application/octet-stream")}
    data = {"summary": "iris forest from the browser test"}
    for field in ("schema", "samples", "classes"):
        data[field] = (EXAMPLE / f"{field}.json").read_text()
    deployment = slipway.call(
        "POST", "/api/v1/models/admin/iris/environments/production/deployments", 201, files=files, data=data
    )
    version = deployment["version"]

    # See it verified on the deployments page.
    environment = f"{slipway.url}/models/admin/iris/environments/production"
    deadline = time.monotonic() + 60
    while True:
        browser.get(environment)
        if "verified" in browser.find_element(By.CSS_SELECTOR, "tbody").text:
            break
        assert "failed" not in browser.find_element(By.CSS_SELECTOR, "tbody").text, text(browser)
        assert time.monotonic() < deadline, "the deployment was not verified within 60 s"
        time.sleep(0.5)
    shoot(browser, screenshots, "deployments")

    # A form without its CSRF token changes nothing.
    browser.find_element(By.LINK_TEXT, "Activate").click()
    assert f"Activate version {version}?" in text(browser)
    shoot(browser, screenshots, "confirm-activate")
    browser.execute_script("document.querySelector(\"main form input[name='csrf']\").remove()")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(browser, "security token (CSRF)")
    assert "Nothing was changed" in text(browser) or "nothing was changed" in text(browser)
    shoot(browser, screenshots, "csrf-refused")
    state = slipway.call("GET", "/api/v1/models/admin/iris/environments/production", 200)
    assert state.get("active_version") is None, state

    # Activate from the console, with the confirmation step.
    browser.get(f"{environment}/activate?version={version}")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait.until(expected_conditions.text_to_be_present_in_element(
        (By.CSS_SELECTOR, ".notice"), f"Version {version} is now active in production."))
    state = slipway.call("GET", "/api/v1/models/admin/iris/environments/production", 200)
    assert state.get("active_version") == version, state

    # Every page of the model, screenshot at both widths.
    pages = {
        "models": "/models",
        "model": "/models/admin/iris",
        "deployment": f"/models/admin/iris/environments/production/deployments/{version}",
        "keys": "/models/admin/iris/keys",
        "activity": "/models/admin/iris/activity",
        "docs": "/models/admin/iris/docs",
    }
    for name, path in pages.items():
        browser.get(slipway.url + path)
        assert browser.find_element(By.TAG_NAME, "h1").text
        shoot(browser, screenshots, name)
    browser.get(slipway.url + "/models/admin/iris/docs")
    assert '"predictions"' in browser.find_element(By.ID, "docs-response").text

    # The monitoring page: requests so far (the API docs page predicted with the first sample).
    monitoring = slipway.url + "/models/admin/iris/monitoring?environment=production&range=1h"

    def requests_counted() -> int:
        browser.get(monitoring)
        return int(browser.find_element(By.ID, "requests-total").text)

    before = requests_counted()

    # Run a playground prediction (the page's JavaScript sends it with the session).
    browser.get(slipway.url + "/models/admin/iris/playground")
    Select(browser.find_element(By.ID, "version")).select_by_value(str(version))
    browser.find_element(By.CSS_SELECTOR, "#playground button[type=submit]").click()
    wait.until(lambda driver: driver.find_element(By.ID, "playground-latency").get_attribute("data-status"))
    assert browser.find_element(By.ID, "playground-latency").get_attribute("data-status") == "200"
    response = browser.find_element(By.ID, "playground-response").text
    assert '"predictions"' in response and '"className"' in response, response
    shoot(browser, screenshots, "playground")

    # The playground's request is counted on the monitoring page at once (statistics are flushed when read), and
    # the charts are drawn on the server with titles for screen readers.
    assert requests_counted() == before + 1
    assert browser.find_element(By.CSS_SELECTOR, "svg#chart-traffic title").get_attribute("textContent") \
        == "Requests per minute"
    assert browser.find_element(By.CSS_SELECTOR, "svg#chart-latency desc").get_attribute("textContent")
    assert browser.find_elements(By.CSS_SELECTOR, "svg#chart-traffic rect[fill='#1f5fbf']")
    browser.find_element(By.CSS_SELECTOR, "select#range option[value='24h']").click()
    browser.find_element(By.CSS_SELECTOR, "form[action$='/monitoring'] button[type=submit]").click()
    wait.until(expected_conditions.url_contains("range=24h"))
    assert int(browser.find_element(By.ID, "requests-total").text) == before + 1
    browser.get(monitoring)
    shoot(browser, screenshots, "monitoring")
    browser.get(monitoring.replace("range=1h", "range=forever"))
    assert "Range must be one of 1h, 6h, 24h or 7d" in text(browser)

    # Add an alert rule from the monitoring page and see it listed; a bad threshold names the field.
    browser.get(monitoring)
    open_panel(browser, "Add an alert rule")
    browser.find_element(By.ID, "alert-name").send_keys("slow")
    Select(browser.find_element(By.ID, "alert-metric")).select_by_value("p99_ms")
    Select(browser.find_element(By.ID, "alert-op")).select_by_value(">")
    browser.find_element(By.ID, "alert-threshold").send_keys("twenty")
    browser.find_element(By.CSS_SELECTOR, "#alert-form button[type=submit]").click()
    wait_for_text(browser, "Threshold must be a number")
    assert "Nothing was changed" in text(browser)
    assert slipway.call("GET", "/api/v1/models/admin/iris/alerts", 200) == []
    browser.get(monitoring)
    open_panel(browser, "Add an alert rule")
    browser.find_element(By.ID, "alert-name").send_keys("slow")
    Select(browser.find_element(By.ID, "alert-metric")).select_by_value("p99_ms")
    browser.find_element(By.ID, "alert-threshold").send_keys("250")
    window = browser.find_element(By.ID, "alert-window")
    window.clear()
    window.send_keys("10m")
    browser.find_element(By.CSS_SELECTOR, "#alert-form button[type=submit]").click()
    wait_for_text(browser, "Added the alert rule slow")
    rules = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=alerts-heading] tbody").text
    assert "slow" in rules and "p99_ms > 250 over 10m in production" in rules, rules
    assert [rule["name"] for rule in slipway.call("GET", "/api/v1/models/admin/iris/alerts", 200)] == ["slow"]
    open_panel(browser, "Add an alert rule")
    shoot(browser, screenshots, "monitoring-alerts")
    assert_fits_390(browser)

    # Create a serving key: its secret is shown once.
    browser.get(slipway.url + "/models/admin/iris/keys")
    browser.find_element(By.ID, "keyname").send_keys("web")
    browser.find_element(By.CSS_SELECTOR, "input[name=environments][value=production]").click()
    browser.find_element(By.CSS_SELECTOR, "form[action$='/keys'] button[type=submit]").click()
    wait_for_text(browser, "it is not shown again")
    secret = browser.find_element(By.ID, "issued-secret").text
    assert secret.startswith("slw_s_")
    shoot(browser, screenshots, "key-created")
    browser.get(slipway.url + "/models/admin/iris/keys")
    assert secret not in browser.page_source

    # A viewer may look but not activate: a message, and nothing changes.
    slipway.call("POST", "/api/v1/orgs", 201, json={"name": "acme"})
    slipway.call("POST", "/api/v1/models", 201, json={"owner": "acme", "name": "flowers"})
    data["summary"] = "flowers v1"
    files = {"model": ("model.onnx", (EXAMPLE / "model.onnx").read_bytes(), "application/octet-stream")}
    flowers = slipway.call(
        "POST", "/api/v1/models/acme/flowers/environments/production/deployments", 201, files=files, data=data
    )
    viewer = slipway.call("POST", "/api/v1/users", 201, json={"username": "vera"})["token"]["secret"]
    slipway.call("PUT", "/api/v1/orgs/acme/members/vera", 200, json={"role": "viewer"})
    path = f"/api/v1/models/acme/flowers/environments/production/deployments/{flowers['version']}"
    deadline = time.monotonic() + 60
    while slipway.call("GET", path, 200).get("status", {}).get("state") != "verified":
        assert time.monotonic() < deadline, "flowers was not verified within 60 s"
        time.sleep(0.3)
    sign_in(browser, slipway, viewer)
    browser.get(f"{slipway.url}/models/acme/flowers/environments/production")
    assert "Activate" not in browser.find_element(By.CSS_SELECTOR, "tbody").text
    browser.get(f"{slipway.url}/models/acme/flowers/environments/production/activate?version={flowers['version']}")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(browser, "Nothing was changed")
    assert "Not allowed" in browser.find_element(By.TAG_NAME, "h1").text
    assert "Nothing was changed" in text(browser)
    shoot(browser, screenshots, "forbidden")
    state = slipway.call("GET", "/api/v1/models/acme/flowers/environments/production", 200)
    assert state.get("active_version") is None, state

    # Sign out: the session no longer opens pages.
    browser.find_element(By.CSS_SELECTOR, "form.signout button").click()
    wait.until(expected_conditions.url_contains("/signin"))
    browser.get(slipway.url + "/models")
    assert "/signin" in browser.current_url


def test_keyboard_and_narrow_layout(slipway, browser, screenshots):
    sign_in(browser, slipway, slipway.admin_token)
    browser.get(slipway.url + "/models")
    # The first Tab reaches the skip link, which leads to the main content.
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("\ue004")
    active = browser.switch_to.active_element
    assert active.text == "Skip to content"
    # At 390 px nothing but tables (which scroll in their own box) is wider than the screen.
    for path in ("/models", "/models/admin/iris", "/models/admin/iris/docs", "/models/admin/iris/playground",
                 "/models/admin/iris/monitoring"):
        browser.get(slipway.url + path)
        set_width(browser, 390)
        overflow = browser.execute_script("return document.documentElement.scrollWidth")
        assert overflow <= 390, (path, overflow)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _deploy_verified(slipway: Slipway, model: str, summary: str) -> int:
    """Deploys the iris example into production of `model` and waits until the server verified it."""
    files = {"model": ("model.onnx", (EXAMPLE / "model.onnx").read_bytes(), "application/octet-stream")}
    data = {"summary": summary}
    for field in ("schema", "samples", "classes"):
        data[field] = (EXAMPLE / f"{field}.json").read_text()
    base = f"/api/v1/models/{model}/environments/production/deployments"
    version = slipway.call("POST", base, 201, files=files, data=data)["version"]
    deadline = time.monotonic() + 60
    while slipway.call("GET", f"{base}/{version}", 200).get("status", {}).get("state") != "verified":
        assert time.monotonic() < deadline, f"{model} version {version} was not verified within 60 s"
        time.sleep(0.3)
    return version


def test_traffic_page(slipway, browser, screenshots):
    # A model with an active version and a second verified one, split 90/10 through the API.
    slipway.call("POST", "/api/v1/models", 201, json={"owner": "admin", "name": "canary"})
    first = _deploy_verified(slipway, "admin/canary", "baseline forest")
    second = _deploy_verified(slipway, "admin/canary", "candidate forest")
    environment = "/api/v1/models/admin/canary/environments/production"
    slipway.call("POST", f"{environment}/activate", 200, json={"version": first})

    sign_in(browser, slipway, slipway.admin_token)
    browser.get(f"{slipway.url}/models/admin/canary/environments/production")
    browser.find_element(By.LINK_TEXT, "Traffic, rollouts and experiment").click()
    page = f"{slipway.url}/models/admin/canary/environments/production/traffic"
    WebDriverWait(browser, 30).until(expected_conditions.url_to_be(page))

    # Set a 90/10 split from the page's form (no script involved), through its confirmation step.
    open_panel(browser, "Set the split")
    weight = browser.find_element(By.ID, f"weight-{first}")
    weight.clear()
    weight.send_keys("90")
    browser.find_element(By.ID, f"weight-{second}").send_keys("10")
    shoot(browser, screenshots, "traffic-split-form")
    assert_fits_390(browser)
    browser.find_element(By.CSS_SELECTOR, "#split-form button[type=submit]").click()
    wait_for_text(browser, "Set the traffic split of production?")
    assert f"version {first} 90%, version {second} 10%" in text(browser)
    policy = slipway.call("GET", f"{environment}/traffic", 200)
    assert [arm["weight"] for arm in policy["arms"]] == [100], policy  # nothing changes before the confirmation
    shoot(browser, screenshots, "traffic-split-confirm")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(browser, "Set the split of production")
    policy = slipway.call("GET", f"{environment}/traffic", 200)
    assert [(arm["version"], arm["weight"]) for arm in policy["arms"]] == [(first, 90), (second, 10)], policy
    split = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=policy-heading] tbody").text
    assert f"{first} 90% active" in split and f"{second} 10% split" in split, split
    shoot(browser, screenshots, "traffic-split")

    # Start a rollout from the page's form (no script involved): the candidate takes the first step's share.
    Select(browser.find_element(By.ID, "rollout-version")).select_by_value(str(second))
    steps = browser.find_element(By.ID, "rollout-steps")
    steps.clear()
    steps.send_keys("20,60,100")
    interval = browser.find_element(By.ID, "rollout-interval")
    interval.clear()
    interval.send_keys("1h")
    browser.find_element(By.ID, "rollout-guardrails").send_keys("error_rate<1%,p99_ms<250")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/traffic/rollouts'] button[type=submit]").click()
    wait_for_text(browser, f"Started rolling out version {second}")
    live = browser.find_element(By.ID, "live-rollout").text
    assert "running" in live and "20% to the candidate" in live and "error_rate<1%,p99_ms<250" in live, live
    assert "undetermined" in text(browser)
    state = slipway.call("GET", f"{environment}/rollouts/current", 200)
    assert state["state"] == "running" and state["weight"] == 20, state
    shoot(browser, screenshots, "traffic-rollout")
    set_width(browser, 390)
    overflow = browser.execute_script("return document.documentElement.scrollWidth")
    assert overflow <= 390, overflow
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    # Pause, then abort, each through its confirmation page.
    browser.find_element(By.LINK_TEXT, "Pause the rollout").click()
    assert f"Pause the rollout of version {second} in production?" in text(browser)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(browser, "Paused the rollout")
    assert slipway.call("GET", f"{environment}/rollouts/current", 200)["state"] == "paused"
    browser.find_element(By.LINK_TEXT, "Abort the rollout").click()
    assert f"All traffic goes back to version {first} at once." in text(browser)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(browser, "Aborted the rollout")
    assert "No rollout is running in production." in text(browser)
    history = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=history-heading] tbody").text
    assert "aborted by admin" in history, history
    assert slipway.call("GET", f"{environment}/rollouts/current", 200)["state"] == "aborted"
    shoot(browser, screenshots, "traffic-aborted")
