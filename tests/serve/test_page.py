"""What a visitor of `sentiment-rnn serve`'s page sees: a phone's width without sideways
scrolling, example reviews on an empty page, one colour scale for "moved P(positive) up / down"
shared with `Trace.plot()`, `inspect --plot` and the notebook's HTML, no command to run and no
path of the serving machine. The browser tests use test_browser.py's server and chromium."""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest
from test_browser import browser_ready, chromium, serving, wait_for  # noqa: F401 (a fixture)

import sentiment_rnn as sr
from sentiment_rnn.evaluation.plots import colour_scale, move_colour, trace_figure

# five sentences, 62 words, 42 of them known to the tiny model: all read with max_len 80
FEW_SENTENCES = (
    "The film was a wonderful surprise and the story was great fun. The plot was dull in the "
    "middle, and a few scenes were a waste of time. It was not the worst movie this year, but "
    "it was not the best. The acting was superb and the music was beautiful. I loved it and "
    "would watch this film again.")
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


def moves(trace: dict) -> list[tuple[str, float]]:
    """(word, change of P(positive)) of each word read, in order."""
    prev, out = trace["start_probability"], []
    for row in trace["tokens"]:
        if row["status"] == "read":
            out.append((row["word"], row["probability"] - prev))
            prev = row["probability"]
    return out


@pytest.fixture
def long_run(trained_run, tmp_path):
    """The tiny run reading the last 80 words instead of 12 (config changed, then sealed), so
    that a review of a few sentences is read whole."""
    run = tmp_path / "models" / "long"
    shutil.copytree(trained_run, run)
    config = json.loads((run / "config.json").read_text())
    config["config"]["max_len"] = 80
    (run / "config.json").write_text(json.dumps(config, indent=2))
    sr.seal(run)
    return run


def test_a_phone_reads_a_few_sentences_without_sideways_scrolling(browser_ready, long_run,
                                                                  tmp_path):
    with serving(long_run) as base, chromium(tmp_path / "profile") as driver:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        driver.get(base + "/?text=" + FEW_SENTENCES.replace(" ", "%20"))
        trace = wait_for(driver, base, FEW_SENTENCES)
        read = len(moves(trace))
        assert read == 42  # every known word of the review is read: a wide chart
        time.sleep(0.3)
        page = driver.execute_script("""
            const w = document.documentElement.clientWidth, out = (e) => {
              const r = e.getBoundingClientRect(); return r.left < -0.5 || r.right > w + 0.5; };
            const all = (s) => [...document.querySelectorAll(s)];
            return {scroll: document.documentElement.scrollWidth, client: w,
              chips: all('#words .word').length, chipsOut: all('#words .word').filter(out).length,
              columns: new Set(all('#heat rect[data-t]').map((r) => r.dataset.t)).size,
              cellsOut: all('#heat rect[data-t]').filter(out).length,
              dots: all('#line circle[data-step]').length,
              dotsOut: all('#line circle[data-step]').filter(out).length,
              labelsOut: all('#heat .wlabel').filter(out).length};""")
    assert page["client"] == 390 and page["scroll"] <= page["client"]  # no sideways scrolling
    assert page["chips"] == len(FEW_SENTENCES.split())  # every word as a chip, all on screen
    assert page["columns"] == page["dots"] == read  # every word read in both charts
    assert page["chipsOut"] == page["cellsOut"] == page["dotsOut"] == page["labelsOut"] == 0


def test_an_empty_page_offers_examples_that_run(browser_ready, trained_run, tmp_path):
    from selenium.webdriver.common.by import By

    with serving(trained_run) as base, chromium(tmp_path / "profile") as driver:
        driver.get(base + "/")
        examples = driver.find_elements(By.CSS_SELECTOR, "#examples button.example")
        assert 2 <= len(examples) <= 3 and all(e.is_displayed() for e in examples)
        assert not driver.find_element(By.ID, "result").is_displayed()
        text = examples[1].text
        examples[1].click()
        trace = wait_for(driver, base, text)  # the box holds it and the page shows its trace
        assert trace["probability"] is not None
        assert not driver.find_element(By.ID, "examples").is_displayed()  # the box is not empty


def test_the_chips_use_the_python_colour_scale(browser_ready, trained_run, tmp_path):
    text = "great superb fun, then boring awful dull"
    with serving(trained_run) as base, chromium(tmp_path / "profile") as driver:
        driver.get(base + "/?text=" + text.replace(" ", "%20"))
        trace = wait_for(driver, base, text)
        shown = driver.execute_script(
            "return [...document.querySelectorAll('#words button.word')].map((b) => "
            "getComputedStyle(b).backgroundColor)")
        dots = driver.execute_script(  # the chart's dots, as drawn (CSS included), in word order
            "return [...document.querySelectorAll('#line circle[data-step]')].sort((a, b) => "
            "a.dataset.step - b.dataset.step).map((c) => getComputedStyle(c).fill)")
    changes = [change for _, change in moves(trace)]
    assert any(c > 0 for c in changes) and any(c < 0 for c in changes)  # up and down words
    assert len(shown) == len(dots) == len(changes)
    for css, change in zip(shown + dots, changes + changes):
        r, g, b, a = [float(x) for x in re.findall(r"[\d.]+", css)] + [1.0] * (css[:4] != "rgba")
        want = move_colour(change)
        assert (r, g, b) == want[:3], (css, change)
        assert a == pytest.approx(want[3], abs=0.5 / 255 + 0.002), (css, change)  # 8-bit alpha


def test_the_second_colouring_is_by_integrated_gradients(browser_ready, trained_run, tmp_path):
    """The toggle recolours the same words by each word's integrated gradients (logit, fully
    opaque at IG_FULL), says so in the legend with the completeness check, and goes back."""
    from selenium.webdriver.common.by import By

    from sentiment_rnn.evaluation.plots import IG_FULL, MOVE_FULL

    text = "great superb fun, then boring awful dull"
    colours = ("return [...document.querySelectorAll('#words button.word')].map((b) => "
               "[getComputedStyle(b).backgroundColor, b.getAttribute('aria-label')])")
    with serving(trained_run) as base, chromium(tmp_path / "profile") as driver:
        driver.get(base + "/?text=" + text.replace(" ", "%20"))
        trace = wait_for(driver, base, text)
        by_move = driver.execute_script(colours)
        assert not driver.find_element(By.ID, "legend-ig").is_displayed()
        assert "integrated gradients" in driver.execute_script(
            "return document.getElementById('by-ig').labels[0].textContent")
        driver.find_element(By.ID, "by-ig").click()
        by_ig = driver.execute_script(colours)
        legend = driver.find_element(By.ID, "legend-ig")
        check = driver.find_element(By.ID, "ig-check")
        assert legend.is_displayed() and not driver.find_element(By.ID, "legend-move").is_displayed()
        assert check.is_displayed() and f"{trace['attribution']['ig_sum']:+.4f}".replace(
            "-", "\u2212") in check.text and "1.00 logit" in legend.text
        driver.find_element(By.ID, "by-move").click()
        assert driver.execute_script(colours) == by_move  # and back
    read = [r for r in trace["tokens"] if r["status"] == "read"]
    igs = [r["integrated_gradients"] for r in read]
    assert any(ig > 0 for ig in igs) and any(ig < 0 for ig in igs)
    assert [c for c, _ in by_ig] != [c for c, _ in by_move]  # a second colouring
    for (css, aria), ig in zip(by_ig, igs):
        r, g, b, a = [float(x) for x in re.findall(r"[\d.]+", css)] + [1.0] * (css[:4] != "rgba")
        want = move_colour(ig * MOVE_FULL / IG_FULL)  # the same scale, full at IG_FULL
        assert (r, g, b) == want[:3], (css, ig)  # a positive IG green, a negative one red
        assert a == pytest.approx(want[3], abs=0.5 / 255 + 0.002), (css, ig)
        assert aria.endswith(f"integrated gradients {ig:+.4f}".replace("-", "\u2212"))


def test_a_visitor_sees_no_path_and_no_command(browser_ready, trained_run, tmp_path):
    from selenium.webdriver.common.by import By

    with serving(trained_run) as base, chromium(tmp_path / "profile") as driver:
        driver.get(base + "/?text=great%20fun")
        wait_for(driver, base, "great fun")
        time.sleep(0.3)  # the model panel
        driver.find_element(By.CSS_SELECTOR, "details summary").click()  # the settings too
        seen = driver.execute_script("return document.body.innerText")
    assert "not evaluated" in seen and trained_run.name in seen  # the run's name only
    assert str(trained_run.parent) not in seen and str(tmp_path.parents[1]) not in seen
    path = r"(?:^|[\s\"'(=:])(?:~|[A-Za-z]:)?[/\\][\w.-]+[/\\]"  # /a/b, ~/a/b, C:\a\b
    assert not re.findall(path, seen), seen  # nor any other path
    assert "sentiment-rnn " not in seen and "--metrics" not in seen
    assert not re.findall(r"(?:^|\s)--?[a-z]", seen), seen  # no option of any command


def test_not_evaluated_is_said_without_a_command(trained_run):
    from fastapi.testclient import TestClient

    from sentiment_rnn.serve.app import create_app

    client = TestClient(create_app(sr.load(trained_run)), base_url="http://127.0.0.1")
    assert client.get("/api/run").json()["evaluation"] is None
    for part in ("/", "/api/run", "/static/app.js", "/static/index.html"):
        answer = client.get(part)
        assert answer.status_code == 200 and len(answer.text) > 100, part  # not a 404's text
        assert "sentiment-rnn " not in answer.text and "--metrics" not in answer.text, part
    assert "not evaluated" in client.get("/static/app.js").text


def test_the_page_is_given_the_python_colour_scale(trained_run):
    from fastapi.testclient import TestClient

    from sentiment_rnn.serve.app import create_app

    page = TestClient(create_app(sr.load(trained_run)), base_url="http://127.0.0.1").get("/")
    block = re.search(r'<script id="colours" type="application/json">(.*?)</script>', page.text)
    assert block and json.loads(block.group(1)) == colour_scale()
    scale = colour_scale()
    assert move_colour(0.3) == (*scale["up"], 1.0) and move_colour(-1) == (*scale["down"], 1.0)
    assert move_colour(0.0)[3] == scale["floor"]  # every word read shows some colour
    assert move_colour(0.01)[3] < move_colour(0.1)[3] < move_colour(0.2)[3] < 1


def test_trace_plot_colours_the_dots_by_the_same_scale(trained_run):
    from matplotlib.colors import to_rgba

    trace = sr.load(trained_run).trace("great superb fun, then boring awful dull")
    fig = trace.plot()
    dots = fig.axes[0].collections[0].get_facecolors()
    changes = [change for _, change in moves(trace.to_dict())]
    assert len(dots) == len(changes) and any(c < 0 for c in changes)
    for dot, change in zip(dots, changes):
        r, g, b, a = move_colour(change)
        assert tuple(dot) == pytest.approx(to_rgba((r / 255, g / 255, b / 255), a))
    heat = fig.axes[1].images[0].cmap  # h_t as on the page: -1 and +1 in its two colours
    low, high = colour_scale()["state_low"], colour_scale()["state_high"]
    assert tuple(heat(0.0))[:3] == pytest.approx([c / 255 for c in low], abs=0.01)
    assert tuple(heat(1.0))[:3] == pytest.approx([c / 255 for c in high], abs=0.01)
    assert type(trace_figure(trace.to_dict())).__name__ == "Figure"


def test_the_notebook_html_uses_the_same_scale(trained_run):
    trace = sr.load(trained_run).trace("zzz great superb fun, then boring awful dull")
    html = trace._repr_html_()
    changes = [change for _, change in moves(trace.to_dict())]
    shown = re.findall(r"background:rgba\((\d+),(\d+),(\d+),([\d.]+)\)", html)
    assert len(shown) == len(changes) and any(c < 0 for c in changes)
    for (r, g, b, a), change in zip(shown, changes):
        want = move_colour(change)
        assert (int(r), int(g), int(b)) == want[:3] and float(a) == pytest.approx(want[3], abs=1e-3)
