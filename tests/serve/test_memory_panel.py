"""The page's Memory panel: GET /api/memory measures once, in a child process, and the panel
shows exactly the numbers the route gives (a real browser)."""

import json
import sys
import time

import pytest
from starlette.testclient import TestClient

import sentiment_rnn as sr
from sentiment_rnn.serve.app import create_app
from sentiment_rnn.serve.memory_panel import MemoryPanel
from test_browser import browser_ready, chromium, serving  # noqa: F401 (a fixture)


def shown(value, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def wait_done(get, seconds=120) -> dict:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        state = get()
        if state["status"] != "computing":
            return state
        time.sleep(0.2)
    pytest.fail("the memory measurement did not finish")


def test_one_request_starts_one_measurement_and_the_rest_read_it(trained_run, tmp_path,
                                                                 monkeypatch):
    log = tmp_path / "started"
    fake = ("import pathlib, json; p = pathlib.Path(%r); p.write_text(p.read_text() + 'x' "
            "if p.exists() else 'x'); print(json.dumps({'model': 'm', 'reviews': 3}))" % str(log))
    monkeypatch.setattr(MemoryPanel, "command", lambda self: [sys.executable, "-c", fake])
    client = TestClient(create_app(sr.load(trained_run)), base_url="http://127.0.0.1")
    for _ in range(3):  # the page loading starts nothing
        assert client.get("/api/memory").json() == {"status": "idle", "reviews": 200,
                                                     "report": None, "error": None}
    assert not log.exists()
    first = client.get("/api/memory?start=true").json()
    assert first["status"] in ("computing", "done")
    state = wait_done(lambda: client.get("/api/memory?start=true").json())
    assert state["status"] == "done" and state["report"] == {"model": "m", "reviews": 3}
    for _ in range(5):
        client.get("/api/memory?start=true")
    assert log.read_text() == "x"  # one child for all the requests


def test_a_run_whose_validation_texts_cannot_be_read_says_why(trained_run, tmp_path, monkeypatch):
    monkeypatch.setattr(MemoryPanel, "command", lambda self: [
        sys.executable, "-c", "import sys; print('Error: the dataset is not here'); sys.exit(1)"])
    client = TestClient(create_app(sr.load(trained_run)), base_url="http://127.0.0.1")
    state = wait_done(lambda: client.get("/api/memory?start=1").json())
    assert state == {"status": "unavailable", "reviews": 200, "report": None,
                     "error": "the dataset is not here"}


def test_the_panel_shows_the_routes_numbers(browser_ready, trained_run, tiny_data_dir, tmp_path,
                                            monkeypatch):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    monkeypatch.setenv("TFDS_DATA_DIR", str(tiny_data_dir))  # the child's data
    with serving(trained_run) as base, chromium(tmp_path / "profile") as driver:
        driver.get(base + "/")
        start = WebDriverWait(driver, 10, 0.1).until(
            lambda d: d.find_element(By.ID, "mem-start").is_displayed() and
            d.find_element(By.ID, "mem-start"))
        assert "Not measured yet" in driver.find_element(By.ID, "mem-status").text
        start.click()
        WebDriverWait(driver, 120, 0.2).until(
            lambda d: not d.find_element(By.ID, "mem-facts").get_attribute("hidden"))
        import urllib.request

        with urllib.request.urlopen(base + "/api/memory", timeout=10) as res:
            state = json.load(res)
        r = state["report"]
        assert state["status"] == "done" and r["source"] == "IMDB validation reviews"
        for curve, cell in (("gradient", "mem-grad-hl"), ("leave_one_out", "mem-loo-hl")):
            h = r[curve]["half_life"]
            assert driver.find_element(By.ID, cell).text == \
                ("not fitted" if h is None else f"{h:.1f} words")
        rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                for tr in driver.find_elements(By.CSS_SELECTOR, "#mem-table tr")[1:]]
        loo = r["leave_one_out"]
        expected = [[str(k), shown(r["gradient"]["mean_norm"][k - 1], ".2e"),
                     shown(loo["mean_abs_change"][i], ".4f"), str(loo["reviews"][i])]
                    for i, k in enumerate(loo["k"]) if k in (1, 2, 5, 10, 20, 50, 100, 200)
                    or k == r["max_len"]]
        assert rows == expected and len(rows) >= 4
        probe = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                 for tr in driver.find_elements(By.CSS_SELECTOR, "#mem-probe tr")[1:]]
        assert probe == [[str(p["k"]), shown(p["accuracy"], ".3f"), shown(p["positive"], ".3f"),
                          shown(p["negative"], ".3f"), str(p["sentences"])]
                         for p in r["probe"]["rows"]]
        lines = driver.find_elements(By.CSS_SELECTOR, "#mem-chart polyline")
        assert [int(p.get_attribute("data-points")) for p in lines] == [
            sum(v is not None and v > 0 for v in r[c][key])
            for c, key in (("gradient", "mean_norm"), ("leave_one_out", "mean_abs_change"))]
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors
