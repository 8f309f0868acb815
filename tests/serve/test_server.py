"""`sentiment-rnn serve`'s API in process (FastAPI's TestClient): the same numbers as the
command line, TF Serving's REST shape, and one clear JSON 4xx for every bad request."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("httpx", reason="the API tests need httpx (pip install -e '.[test]')")
with warnings.catch_warnings():  # Starlette 1.x prefers httpx2; httpx works with every version
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

import sentiment_rnn as sr  # noqa: E402
from sentiment_rnn.cli.commands import main  # noqa: E402
from sentiment_rnn.errors import SentimentRNNError  # noqa: E402
from sentiment_rnn.serve.app import MAX_BODY, PREDICT_PATH, create_app, load_metrics  # noqa: E402

TEXTS = ["A wonderful film, the best story!", "Boring and stupid. The worst plot.",
         "zzz qqq", "... !!!", "the movie was fun but the plot was dull and bad"]


BASE = "http://127.0.0.1:8000"  # a Host the server answers to (not TestClient's testserver)
JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def client(trained_run):
    return TestClient(create_app(sr.load(trained_run)), base_url=BASE, headers=JSON_TYPE)


def cli_json(*args) -> list[dict]:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_predict_equals_the_cli_to_the_last_digit(client, trained_run):
    res = client.post(PREDICT_PATH, json={"instances": TEXTS})
    assert res.status_code == 200
    body = res.json()
    rows = cli_json("predict", "--model", str(trained_run), "--json", *TEXTS)
    assert body["predictions"] == [r["probability"] for r in rows]  # floats, exactly
    assert body["labels"] == [r["label"] for r in rows]
    assert body["predictions"][2] is None and body["labels"][2] == "unknown"  # no known word
    assert body["predictions"][3] is None
    raw = res.text  # the same digits in the bytes too, not only the same float
    for r in rows:
        if r["probability"] is not None:
            assert json.dumps(r["probability"]) in raw


def test_predict_accepts_what_tf_serving_clients_send(client):
    text = json.dumps({"instances": ["great fun"], "signature_name": "serving_default"})
    for kind in ("application/json", "application/json; charset=utf-8",
                 "Application/JSON;charset=\"UTF-8\""):
        res = client.post(PREDICT_PATH, content=text, headers={"Content-Type": kind})
        assert res.status_code == 200 and len(res.json()["predictions"]) == 1
    res = client.post(PREDICT_PATH, content=text,  # curl -d without -H: a form content type
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert res.status_code == 415 and "application/json" in res.json()["error"]
    assert client.get("/v1/models/sentiment-rnn").json()["model_version_status"][0]["state"] \
        == "AVAILABLE"


def test_trace_and_model_equal_inspect_json(client, trained_run):
    text = "The film was great, but zzz the plot was dull!"
    res = client.post("/api/trace", json={"text": text})
    assert res.status_code == 200
    body = res.json()  # inspect's trace, with each row's index and nothing omitted
    assert [row.pop("index") for row in body["tokens"]] == list(range(len(body["tokens"])))
    assert body.pop("omitted") == {"words": 0, "cut": 0, "dropped": 0, "oov_words": 0}
    assert body == cli_json("inspect", "--model", str(trained_run), "--json", text)[0]
    overview = client.get("/api/model").json()
    assert overview == cli_json("inspect", "--model", str(trained_run), "--json", "--check",
                                "0")[0]
    unknown = client.post("/api/trace", json={"text": "zzz qqq"}).json()
    assert unknown["probability"] is None and unknown["label"] == "unknown"


def test_leave_out_is_the_numpy_pass_on_the_text_without_the_word(client, trained_run):
    model = sr.load(trained_run)
    text = "Great film, but the plot was dull"
    for i, word in enumerate(["great", "film", "but", "the", "plot", "was", "dull"]):
        res = client.post("/api/leave-out", json={"text": text, "index": i})
        assert res.status_code == 200, res.text
        body = res.json()
        rest = " ".join(w for j, w in enumerate(text.lower().replace(",", "").split()) if j != i)
        assert body["word"] == word
        assert body["without"] == model.trace(rest).probability  # what the page shows
        assert body["probability"] == model.trace(text).probability
        assert body["without"] == pytest.approx(float(model.predict(rest)[0]), abs=1e-12)
        assert body["change"] == body["without"] - body["probability"]
    res = client.post("/api/leave-out", json={"text": "great", "index": 0}).json()
    assert res["without"] is None and res["label_without"] == "unknown"
    bad = client.post("/api/leave-out", json={"text": "great fun", "index": 2})
    assert bad.status_code == 422 and "out of range" in bad.json()["error"]


def test_run_info_and_health(client, trained_run):
    info = client.get("/api/run").json()
    assert info["config"] == json.loads(json.dumps(sr.load(trained_run).config.to_dict()))
    assert info["parameters"] == sum(w["params"] for w in
                                     client.get("/api/model").json()["weights"].values())
    assert info["evaluation"] is None  # not evaluated: the page says so
    assert client.get("/healthz").json() == {"status": "ok", "model": str(trained_run)}


def test_metrics_json_gives_the_test_accuracy(trained_run, tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps(
        {"accuracy": 0.875, "n": 20, "data": "IMDB test split", "model": str(trained_run)}))
    app = create_app(sr.load(trained_run), load_metrics(tmp_path))  # the folder works too
    ev = TestClient(app, base_url=BASE).get("/api/run").json()["evaluation"]
    assert ev["accuracy"] == 0.875 and ev["n"] == 20
    (tmp_path / "metrics.json").write_text('{"auc": 0.9}')
    with pytest.raises(SentimentRNNError, match="no accuracy"):
        load_metrics(tmp_path / "metrics.json")


@pytest.mark.parametrize("body, status, words", [
    (b"{not json", 400, "malformed JSON"),
    (b"", 400, "empty"),
    (b"\xff\xfe{}", 400, "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "JSON"),
    (b'["a wonderful film"]', 422, "JSON object"),
    (b'{"texts": ["good"]}', 422, "instances is missing"),
    (b'{"instances": "good"}', 422, "instances"),
    (b'{"instances": []}', 422, "instances is empty"),
    (b'{"instances": ["good", 5]}', 422, "instances[1]"),
    (b'{"instances": ["good", null]}', 422, "instances[1]"),
    (b'{"instances": ["good", ""]}', 422, "instances[1] is empty"),
    (b'{"instances": ["\\ud800"]}', 422, "lone surrogate"),
    (json.dumps({"instances": ["good"] * 1001}).encode(), 422, "at most 1,000 instances"),
])
def test_bad_predict_requests_get_one_clear_4xx(client, body, status, words):
    res = client.post(PREDICT_PATH, content=body, headers={"Content-Type": "application/json"})
    assert res.status_code == status, res.text
    error = res.json()["error"]
    assert words in error and "\n" not in error


@pytest.mark.parametrize("path, body, words", [
    ("/api/trace", {}, "text is missing"),
    ("/api/trace", {"text": 3}, "text"),
    ("/api/trace", {"text": ["a"]}, "text"),
    ("/api/trace", {"text": ""}, "text is empty"),
    ("/api/leave-out", {"text": "good"}, "index is missing"),
    ("/api/leave-out", {"text": "good", "index": -1}, "index"),
    ("/api/leave-out", {"text": "good", "index": "0"}, "index"),
    ("/api/leave-out", {"text": "good", "index": True}, "index"),
    ("/api/leave-out", {"text": "good", "index": 0.5}, "index"),
])
def test_bad_trace_requests_get_one_clear_4xx(client, path, body, words):
    res = client.post(path, json=body)
    assert res.status_code == 422, res.text
    assert words in res.json()["error"]


def test_a_body_over_1_mb_is_413(client):
    big = json.dumps({"instances": ["good " * (MAX_BODY // 5)]})
    res = client.post(PREDICT_PATH, content=big)
    assert res.status_code == 413 and "over 1,048,576 bytes" in res.json()["error"]

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"text": "'
        for _ in range(MAX_BODY // 1000 + 1):
            yield b"a" * 1000
        yield b'"}'

    assert client.post("/api/trace", content=chunks()).status_code == 413
    just = json.dumps({"text": "good " * ((MAX_BODY - 20) // 5)})
    assert len(just) <= MAX_BODY and client.post("/api/trace", content=just).status_code == 200


def test_other_mistakes_are_json_too(client):
    assert client.get("/nothing").json() == {"error": "/nothing: not found"}
    res = client.get(PREDICT_PATH)
    assert res.status_code == 405 and "GET is not allowed" in res.json()["error"]


def test_page_assets_and_openapi_are_local(client):
    page = client.get("/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers[
        "content-security-policy"]
    for asset in ("app.js", "charts.js", "style.css", "favicon.svg"):
        res = client.get(f"/static/{asset}")
        assert res.status_code == 200 and "http" not in res.text.replace("http://www.w3.org", "")
        assert f"/static/{asset}" in page.text or asset == "favicon.svg" and "favicon" in page.text
    paths = client.get("/openapi.json").json()["paths"]
    assert {PREDICT_PATH, "/api/trace", "/api/model", "/api/leave-out", "/healthz"} <= set(paths)
    schema = paths[PREDICT_PATH]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["instances"]["maxItems"] == 1000


def test_serving_never_imports_tensorflow(trained_run):
    code = ("import sys, time; t = time.perf_counter(); import sentiment_rnn as sr; "
            "from sentiment_rnn.serve.app import create_app; from fastapi.testclient import "
            "TestClient; c = TestClient(create_app(sr.load(sys.argv[1]))); "
            "ready = time.perf_counter() - t; "
            "c.post('/v1/models/sentiment-rnn:predict', json={'instances': ['great']}); "
            "c.post('/api/trace', json={'text': 'great'}); c.get('/api/model'); "
            "assert not {'tensorflow', 'keras'} & set(sys.modules), 'imported'; print(ready)")
    out = subprocess.run([sys.executable, "-c", code, str(trained_run)], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(
                             Path(__file__).parents[2])})
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 5  # about a second; generous for a busy CI machine


def test_serve_command_refuses_a_bad_metrics_file(trained_run, tmp_path):
    (tmp_path / "m.json").write_text("[1, 2]")
    result = CliRunner().invoke(main, ["serve", "--model", str(trained_run), "--metrics",
                                       str(tmp_path / "m.json"), "--port", "0"])
    assert result.exit_code == 1 and "no accuracy" in result.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        result = CliRunner().invoke(main, ["serve", "--model", str(trained_run), "--port", port])
    assert result.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in result.output


def test_serve_prints_the_url_answers_and_stops_on_ctrl_c(trained_run):
    import signal
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "sentiment_rnn", "serve", "--model",
                             str(trained_run), "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={
                                **os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    try:
        line = proc.stdout.readline()
        assert " at http://127.0.0.1:" in line, line + proc.stderr.read()
        url = line.split(" at ")[1].split()[0]
        with urllib.request.urlopen(url + "healthz", timeout=10) as res:
            assert json.load(res)["status"] == "ok"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0 and out.strip() == "Stopped." and err == ""


def test_an_lstm_run_is_served_on_its_numpy_pass(lstm_run):
    """Every route a page reads works for a gated cell: the predictions are the CLI's, the
    trace carries c_t, the model report names the LSTM's gates; no TensorFlow is needed."""
    lstm = TestClient(create_app(sr.load(lstm_run)), base_url=BASE, headers=JSON_TYPE)
    body = lstm.post(PREDICT_PATH, json={"instances": TEXTS}).json()
    rows = cli_json("predict", "--model", str(lstm_run), "--json", *TEXTS)
    assert body["predictions"] == [r["probability"] for r in rows]
    trace = lstm.post("/api/trace", json={"text": TEXTS[0]}).json()
    read = [t for t in trace["tokens"] if t["status"] == "read"]
    assert trace["cell"] == "lstm" and read and all(len(t["c"]) == 6 for t in read)
    report = lstm.get("/api/model").json()
    assert report["cell"] == "lstm" and "W_hf" in report["weights"]
    assert lstm.get("/api/run").json()["config"]["cell"] == "lstm"
