"""The monitor page in a real headless Chromium (Debian's chromium + chromium-driver, selenium)."""
import os
import re
import shutil
import subprocess
import sys
import threading

import pytest

from .conftest import TOKEN

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (the dev extra) drives Chromium")
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="needs Debian's chromium and chromium-driver (./run installs them)")


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def until(driver, condition, timeout=30.0, message=""):
    """Wait (polling) until ``condition(driver)`` is truthy; returns it."""
    return WebDriverWait(driver, timeout, poll_frequency=0.1,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
                         ).until(condition, message)


def drawn_nodes(driver) -> set:
    """The nodes drawn in the graph (read in one go: the SVG is redrawn at each update)."""
    return set(driver.execute_script(
        "return [...document.querySelectorAll('#graph g.node')].map((g) => g.dataset.node);"))


def cell(driver, table, key, css):
    attr = {"nodes": "data-node", "streams": "data-stream"}[table]
    return driver.find_element(By.CSS_SELECTOR, f'#{table} tr[{attr}="{key}"] td.{css}').text


def open_page(driver, url):
    driver.get(url)
    until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#graph g.node"), message="the graph drawn")


def test_page_lists_every_node_and_rates_update(browser, web):
    open_page(browser, web.url)
    nodes = drawn_nodes(browser)
    assert nodes == {"device", "bandpass", "recorder", "camera"}
    rows = {tr.get_attribute("data-node") for tr in browser.find_elements(By.CSS_SELECTOR, "#nodes tbody tr")}
    assert rows == nodes
    key = "device.signals->bandpass.input"
    updates = int(until(browser, lambda d: d.find_element(By.ID, "status").get_attribute("data-updates")))

    def rate():
        text = cell(browser, "streams", key, "rate").replace(",", "")
        return float(text) if text not in ("", "-") else None
    first = until(browser, lambda d: rate(), message="a rate shown")
    until(browser, lambda d: int(d.find_element(By.ID, "status").get_attribute("data-updates")) >= updates + 3,
          message="three more updates")
    assert 500 < first < 2000 and 500 < rate() < 2000
    assert browser.execute_script("return document.querySelectorAll('#graph path.edge').length") == 3


def test_controls_refused_without_token_and_done_with_it(browser, web, manager):
    open_page(browser, web.url)
    browser.find_element(By.ID, "token").clear()
    stop = '#nodes tr[data-node="device"] button[data-action="stop"]'
    browser.find_element(By.CSS_SELECTOR, stop).click()
    until(browser, lambda d: "refused (401)" in d.find_element(By.ID, "message").text, message="a refusal")
    assert manager.node("device").state._get_value() == "running"

    open_page(browser, web.url + f"#token={TOKEN}")           # the link printed at start
    browser.find_element(By.CSS_SELECTOR, stop).click()
    until(browser, lambda d: cell(d, "nodes", "device", "state") == "stopped", message="device stopped")
    assert manager.node("device").state._get_value() == "stopped"
    browser.find_element(By.CSS_SELECTOR, '#nodes tr[data-node="device"] button[data-action="restart"]').click()
    until(browser, lambda d: cell(d, "nodes", "device", "state") == "running", message="device running again")
    assert manager.node("device").state._get_value() == "running"


def test_picked_previews_are_drawn(browser, web):
    open_page(browser, web.url)
    for key in ("bandpass.output", "camera.frames"):
        until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'input[data-preview="{key}"]'))[0].click()
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#previews .preview canvas")) == 2,
          message="two preview canvases")

    def drawn(d):
        titles = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#previews .preview .title")]
        return any("4 of 4 ch" in t for t in titles) and any("frame" in t for t in titles)
    until(browser, drawn, message="a signal and a frame drawn")
    # the frame canvas holds the red bar of the video source
    red = browser.execute_script("""
        const c = document.querySelector('#previews .preview[data-key="camera.frames"] canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] === 255 && d[i + 1] === 0) n++;
        return n;""")
    assert red >= 48


def test_acqflow_demo_web_end_to_end(browser, tmp_path):
    """`acqflow demo --web`: the printed link opens the live graph; stop and restart a node."""
    proc = subprocess.Popen([sys.executable, "-m", "acqflow.commands", "demo", "--web", "127.0.0.1:0", "--no-viewer",
                             "--channels", "4", "--duration", "300", "--record", str(tmp_path / "rec")],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    try:
        link = until(browser, lambda d: next((m.group(0) for ln in list(lines)
                                              for m in [re.search(r"http://127\.0\.0\.1:\d+/#token=\S+", ln)] if m),
                                             None), timeout=90, message="the link printed at start")
        open_page(browser, link)
        until(browser, lambda d: drawn_nodes(d) == {"device", "bandpass", "recorder"},
              message="the demo's three nodes")
        until(browser, lambda d: cell(d, "streams", "device.signals->bandpass.input", "rate") not in ("", "-"))
        for action, expected in (("stop", "stopped"), ("restart", "running")):
            button = f'#nodes tr[data-node="device"] button[data-action="{action}"]'
            browser.find_element(By.CSS_SELECTOR, button).click()
            until(browser, lambda d: cell(d, "nodes", "device", "state") == expected, message=f"device {expected}")
    finally:
        proc.terminate()
        proc.wait(60)
    assert proc.returncode == 0, "".join(lines)[-2000:]
    assert any("committed=True" in ln for ln in lines)


def test_off_loopback_the_page_asks_for_the_token(browser, manager):
    from acqflow.web import WebMonitor
    with WebMonitor(manager, "0.0.0.0", 0, token=TOKEN) as monitor:
        url = f"http://127.0.0.1:{monitor.port}/"
        browser.get(url)
        until(browser, lambda d: "needs the token" in d.find_element(By.ID, "status").text,
              message="the page saying it needs the token")
        assert not drawn_nodes(browser)
        open_page(browser, url + f"#token={TOKEN}")
        assert drawn_nodes(browser) == {"device", "bandpass", "recorder", "camera"}
