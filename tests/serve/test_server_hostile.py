"""`serve` against a client that means harm, class by class: the tokenizer's cost is
linear whatever the text, responses and requests in flight are bounded, only the page's own
origin may drive the API, every response has the security headers, a client's mistake is never
a 5xx, slow clients are cut off (a real uvicorn server on 127.0.0.1), `--metrics` reads only a
small regular file, a non-loopback --host is warned about."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import shutil
import socket
import threading
import time
import unicodedata
import warnings
import zlib

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("httpx", reason="the API tests need httpx (pip install -e '.[test]')")
import httpx  # noqa: E402

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2; httpx works with every version
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

import sentiment_rnn as sr  # noqa: E402
from sentiment_rnn.serve import app as server  # noqa: E402
from sentiment_rnn.text import tokenizer as text
from sentiment_rnn.serve import guard as webguard
from sentiment_rnn.serve import bodies as webio
from sentiment_rnn.cli.commands import main  # noqa: E402
from sentiment_rnn.errors import SentimentRNNError  # noqa: E402
from sentiment_rnn.serve.app import MAX_BODY, PREDICT_PATH, create_app, load_metrics  # noqa: E402

BASE = "http://127.0.0.1:8000"
JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def model(trained_run):
    return sr.load(trained_run)


@pytest.fixture(scope="module")
def client(model):
    return TestClient(create_app(model), base_url=BASE, headers=JSON_TYPE)


# ------------------------------------------------------------------ the tokenizer: linear cost

def _nonstarter(c: str) -> bool:
    return unicodedata.combining(unicodedata.normalize("NFKD", c)[0]) != 0


def _longest_run(s: str) -> int:
    longest = run = 0
    for c in s:
        run = run + 1 if _nonstarter(c) else 0
        longest = max(longest, run)
    return longest


HOSTILE = {  # n characters of text whose NFKC takes quadratic time without the cut
    "one base, marks": lambda n: "a" + "\u0301\u0316" * (n // 2),
    "marks, no base": lambda n: "\u0316\u0301" * (n // 2),
    "bases with 50 marks": lambda n: ("e" + "\u0316\u0301" * 25) * (n // 51),
    "Thai and Hebrew": lambda n: ("ก" + "\u0e48" * 40 + "x" + "\u05b0\u0591" * 20) * (n // 82),
    "ccc-0 chars that decompose to marks": lambda n: "\u0f62" + "\u0f73\u0f75\u0f81" * (n // 3),
    "halfwidth voiced marks": lambda n: "ｶ" + "\uff9e\uff9f" * (n // 2),
    "Hangul jamo": lambda n: "\u1100" * (n // 2) + "\u1161" * (n // 2),
    "Hangul L V T": lambda n: "\u1100\u1161\u11a8" * (n // 3),
}


@pytest.mark.parametrize("shape", HOSTILE)
def test_no_run_of_more_than_30_marks_reaches_nfkc(shape):
    hostile = HOSTILE[shape](3000)
    cut = text.stream_safe(hostile)
    assert _longest_run(cut) <= text.STREAM_SAFE
    assert _longest_run(hostile) <= 30 or len(cut) < len(hostile)  # cut only where needed


def test_a_run_keeps_its_first_30_marks():
    assert text.stream_safe("a" + "\u0301" * 100_000 + "b") == "a" + "\u0301" * 30 + "b"
    assert text.stream_safe("x\u0f73" * 2 + "\u0f73" * 40) == "x\u0f73x" + "\u0f73" * 30
    assert text.tokenize("caf" + "e\u0301" + "\u0316" * 5000 + " great") == ["café", "great"]


NORMAL = ["A wonderful film, the best story!", "Phim rất hay, diễn viên tuyệt vời",
          "שָׁלוֹם עֲלֵיכֶם", "בְּרֵאשִׁ֖ית בָּרָ֣א", "नमस्ते दुनिया", "สวัสดีครับ ดีมาก",
          "한국어 문장입니다 ᄒᆞᆫ글", "ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟ", "e" + "\u0301" * 30, "👩‍👩‍👧 great",
          "Z\u0351\u0352\u0357\u0358\u0359\u035a\u035b\u035c\u035d\u035e\u035f\u0360algo",
          "ﬁne ｆｕｌｌ ①②", "Ελληνικά ΐ ΰ", "Tiếng Việt có dấu ặẫậ"]


@pytest.mark.parametrize("normal", NORMAL)
def test_normal_text_is_tokenized_as_before(normal):
    assert text.stream_safe(normal) is normal or text.stream_safe(normal) == normal
    before = text._PUNCT.sub(" ", text._APOSTROPHE.sub("", text.BREAK.sub(
        " ", unicodedata.normalize("NFKC", normal).lower()))).split()
    assert text.tokenize(normal) == before


MARKS = "\u0300\u0301\u0316\u0327\u05b0\u0591\u0e48\u093c\u3099\u0f73\uff9e\u1dc0"


@given(st.lists(st.tuples(st.sampled_from("aeiouyAé가ก\u05d0\u0915カ "),
                          st.lists(st.sampled_from(MARKS), max_size=30)), max_size=20))
@settings(max_examples=200, deadline=None)
def test_text_with_at_most_30_marks_in_a_row_is_left_alone(chunks):
    sample = "".join(base + "".join(marks) for base, marks in chunks)
    assert text.stream_safe(sample) == sample


def test_the_mark_table_covers_every_code_point():
    """tokenizer.py builds its table below U+20000 only: no character above it starts its NFKD
    with a non-starter in this Python's Unicode version."""
    above = [cp for cp in range(0x20000, 0x110000) if _nonstarter(chr(cp))]
    assert above == []
    pattern = text._long_runs()
    below = "".join(c for c in map(chr, range(0x300, 0x20000)) if _nonstarter(c))
    assert pattern.fullmatch(below[:31]) and pattern.fullmatch(below[-31:])
    assert all(pattern.fullmatch(c * 31) for c in below)
    assert not any(pattern.fullmatch(c * 31) for c in "aé가ก\u0e01ｶ\u1100\u1161")


def test_hostile_texts_tokenize_in_linear_time():
    """200,000 characters of each shape; without the cut the first takes minutes. The bound is
    loose on purpose (about 0.1 s each here): only a quadratic cost can reach it."""
    started = time.perf_counter()
    for make in HOSTILE.values():
        text.tokenize(make(200_000))
    assert time.perf_counter() - started < 30


def test_predict_file_with_one_line_of_marks_is_fast(trained_run, tmp_path):
    line = "great film " + "a" + "\u0301" * 200_000 + " dull\n"
    (tmp_path / "in.txt").write_text(line + "great fun\n", encoding="utf-8")
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["predict", "--model", str(trained_run), "--json",
                                       "--file", str(tmp_path / "in.txt")])
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 30  # 10 s for this line alone without the cut
    rows = [json.loads(r) for r in result.stdout.splitlines()]
    assert len(rows) == 2 and rows[0]["probability"] == pytest.approx(
        float(sr.load(trained_run).predict("great film \u00e1 dull")[0]), abs=1e-12)


# ---------------------------------------------------------------------- bounded responses

BIG_TEXTS = {  # each about 1 MB in the body
    "known words": "great " * 170_000,
    "unknown words": "zzz " * 250_000,
    "distinct words": " ".join(f"w{i}" for i in range(140_000)),
    "unknown then known": "zzz " * 240_000 + "great dull " * 5,
    "control characters": "\x01" * 170_000,  # 6 bytes each in JSON
    "one long word": "a" * 1_000_000,
}


@pytest.mark.parametrize("shape", BIG_TEXTS)
def test_a_trace_of_a_huge_text_is_bounded(client, model, shape):
    body = json.dumps({"text": BIG_TEXTS[shape]})
    assert len(body) <= MAX_BODY
    res = client.post("/api/trace", content=body)
    assert res.status_code == 200, res.text
    report = res.json()
    n_words = len(text.tokenize(BIG_TEXTS[shape]))
    assert len(report["tokens"]) <= server.MAX_UNREAD + model.config.max_len
    assert len(report["tokens"]) + report["omitted"]["words"] == n_words
    echo = len(json.dumps(BIG_TEXTS[shape], ensure_ascii=False))  # the text, its words in
    assert len(res.content) <= 3 * echo + 300 * len(report["tokens"]) + 10_000  # rows and oov
    assert report["text"] == BIG_TEXTS[shape]
    assert report["probability"] == pytest.approx(float(model.predict(BIG_TEXTS[shape])[0]),
                                                  abs=1e-12, nan_ok=True) or \
        report["probability"] is None


@pytest.mark.parametrize("words", [
    "the film was great but dull " * 30,
    "zzz qqq " * 40 + "great fun dull",
    "great " + "zzz " * 50 + "dull " + "qqq " * 50 + "fun",
    "a b c d e f g h i j k l m n o p great",
    "a b c d e f g h i j k l m n o p great " * 3,
])
def test_a_bounded_trace_lists_every_word_read_and_counts_the_rest(model, monkeypatch, words):
    full = model.trace(words).to_dict()
    monkeypatch.setattr(server, "MAX_UNREAD", 5)
    small = server.bounded_trace(model, words)
    rows = full["tokens"]
    assert [r["index"] for r in small["tokens"] if r["status"] == "read"] == \
        [i for i, r in enumerate(rows) if r["status"] == "read"]
    for row in small["tokens"]:
        assert {k: v for k, v in row.items() if k != "index"} == rows[row["index"]]
    unread = [r for r in small["tokens"] if r["status"] != "read"]
    if len(rows) > 5 + model.config.max_len:  # listed: the words read and the last 5 others
        assert len(unread) == 5 and unread[-1]["index"] == max(
            i for i, r in enumerate(rows) if r["status"] != "read")
    else:
        assert len(small["tokens"]) == len(rows)
    assert small["probability"] == full["probability"] and small["cut"] == full["cut"]
    o = small["omitted"]
    assert o["words"] == len(rows) - len(small["tokens"])
    assert o["cut"] + sum(r["status"] == "cut" for r in small["tokens"]) == full["cut"]
    assert o["dropped"] + sum(r["status"] == "dropped" for r in small["tokens"]) == \
        sum(r["status"] == "dropped" for r in rows)
    assert o["oov_words"] + len(small["oov_words"]) == len(full["oov_words"])


def test_leave_out_of_a_word_not_listed(model, monkeypatch):
    words = "great " + "zzz " * 30 + "the film was dull " * 20
    monkeypatch.setattr(server, "MAX_UNREAD", 3)
    c = TestClient(create_app(model), base_url=BASE)
    tokens = text.tokenize(words)
    for index in (0, 1, 5, len(tokens) - 1):
        res = c.post("/api/leave-out", json={"text": words, "index": index})
        assert res.status_code == 200, res.text
        rest = " ".join(tokens[:index] + tokens[index + 1:])
        assert res.json()["without"] == model.trace(rest).probability
        assert res.json()["word"] == tokens[index]


class Held:
    """A model whose trace waits until released: a request held in flight."""

    def __init__(self, model):
        self._model, self.entered, self.release = model, threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self._model, name)

    def trace(self, words, attributions=True):
        self.entered.set()
        assert self.release.wait(20)
        return self._model.trace(words, attributions)


def test_past_the_limit_of_requests_in_flight_a_503_at_once(model):
    held = Held(model)
    app = create_app(held, max_in_flight=1)

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE,
                                     headers=JSON_TYPE) as c:
            first = asyncio.create_task(c.post("/api/trace", json={"text": "great"}))
            while not held.entered.is_set():
                await asyncio.sleep(0.01)
            started = time.perf_counter()
            busy = [await c.post(p, json=b) for p, b in [
                ("/api/trace", {"text": "dull"}), (PREDICT_PATH, {"instances": ["fun"]}),
                ("/api/leave-out", {"text": "great fun", "index": 0})]]
            health = await c.get("/healthz")  # not blocked by the work in flight
            waited = time.perf_counter() - started
            held.release.set()
            done = await first
            after = await c.post("/api/trace", json={"text": "great"})
            return busy, health, waited, done, after

    busy, health, waited, done, after = asyncio.run(scenario())
    for res in busy:
        assert res.status_code == 503 and "busy" in res.json()["error"]
        assert res.headers["retry-after"] == "1"
        assert "frame-ancestors 'none'" in res.headers["content-security-policy"]
    assert health.status_code == 200 and waited < 10
    assert done.status_code == 200 and after.status_code == 200  # the slot was given back


# ----------------------------------------------------- only the page's own origin drives it

ROUTES = [("GET", "/"), ("GET", "/static/index.html"), ("GET", "/static/app.js"),
          ("GET", "/healthz"), ("GET", "/api/run"), ("GET", "/api/model"),
          ("GET", "/openapi.json"), ("GET", "/nothing"), ("POST", PREDICT_PATH),
          ("POST", "/api/trace"), ("POST", "/api/leave-out"), ("DELETE", "/api/run")]
BODIES = {PREDICT_PATH: {"instances": ["great"]}, "/api/trace": {"text": "great"},
          "/api/leave-out": {"text": "great", "index": 0}}


def _call(c, method, path, headers=None, **kw):
    if method == "POST":
        kw.setdefault("json", BODIES[path])
    return c.request(method, path, headers=headers or {}, **kw)


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000",
                                  "127.0.0.1.attacker.example", "localhost.attacker.example",
                                  "[::2]:8000", "192.168.1.5:8000", "", "127.0.0.1:80:80",
                                  "127.0.0.1:x", "localhost@attacker.example"])
def test_a_host_it_does_not_serve_is_refused_on_every_route(client, host):
    for method, path in ROUTES:
        res = _call(client, method, path, headers={"Host": host})
        assert res.status_code == 400, (method, path, res.text)
        assert "Host header" in res.json()["error"]
        assert res.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "127.0.0.1", "localhost:1234",
                                  "LOCALHOST:8000", "[::1]:8000", "[::1]"])
def test_the_loopback_names_are_served(client, host):
    for method, path in ROUTES[:-2]:
        res = _call(client, method, path, headers={"Host": host})
        assert res.status_code in (200, 404), (method, path, res.text)


def test_the_host_served_and_a_wildcard(model):
    named = TestClient(create_app(model, host="sentiment.lan"), base_url="http://sentiment.lan")
    assert named.get("/healthz").status_code == 200
    assert named.get("/healthz", headers={"Host": "other.lan"}).status_code == 400
    wild = TestClient(create_app(model, host="0.0.0.0"), base_url="http://192.168.1.5:8000")
    assert wild.get("/healthz").status_code == 200  # an address cannot be rebound
    assert wild.get("/healthz", headers={"Host": "[fe80::1]:8000"}).status_code == 200
    assert wild.get("/healthz", headers={"Host": "attacker.example"}).status_code == 400
    names, any_ip = webguard.allowed_hosts("::")
    assert any_ip and {"localhost", "127.0.0.1", "::1"} <= names


@pytest.mark.parametrize("kind", [None, "text/plain", "application/x-www-form-urlencoded",
                                  "multipart/form-data; boundary=x", "application/jsonx",
                                  "application/json-patch+json", "text/json",
                                  "application/json; charset=latin-1",
                                  "application/json, text/plain"])
def test_a_post_that_is_not_application_json_is_415(client, kind):
    for path, body in BODIES.items():
        headers = {} if kind is None else {"Content-Type": kind}
        c = TestClient(client.app, base_url=BASE)  # no default Content-Type
        res = c.post(path, content=json.dumps(body), headers=headers)
        assert res.status_code == 415, (path, kind, res.text)
        assert "application/json" in res.json()["error"] or "UTF-8" in res.json()["error"]


@pytest.mark.parametrize("encoding, pack", [("gzip", gzip.compress), ("deflate", zlib.compress),
                                            ("br", lambda b: b), ("x-gzip", gzip.compress),
                                            ("gzip, identity", gzip.compress)])
def test_a_compressed_body_is_415(client, encoding, pack):
    for path, body in BODIES.items():
        res = client.post(path, content=pack(json.dumps(body).encode()),
                          headers={"Content-Encoding": encoding})
        assert res.status_code == 415 and "Content-Encoding not supported" in res.json()["error"]


@pytest.mark.parametrize("origin", ["http://attacker.example", "null", "http://127.0.0.1:9999",
                                    "http://localhost:8000", "https://127.0.0.1.evil:8000",
                                    "https://127.0.0.1:8000", "evil://127.0.0.1:8000",
                                    "http://127.0.0.1:8000/x"])
def test_a_post_from_another_sites_page_is_403(client, origin):
    for path in BODIES:
        res = _call(client, "POST", path, headers={"Origin": origin})
        assert res.status_code == 403 and "another site" in res.json()["error"]
    same = _call(client, "POST", "/api/trace", headers={"Origin": BASE})
    assert same.status_code == 200


# ------------------------------------------------------------------ the security headers

def test_every_response_has_the_security_headers(client, tmp_path):
    cases = [client.get(f"/static/{p.name}") for p in server.STATIC.iterdir()]
    cases += [client.get(p) for p in ("/", "/healthz", "/api/run", "/api/model",
                                      "/openapi.json", "/v1/models/sentiment-rnn", "/static/",
                                      "/static/nothing.js", "/nothing", "/static/../server.py")]
    cases += [client.post(PREDICT_PATH, content=b"{"), client.get(PREDICT_PATH),
              client.post("/api/trace", json={"text": 3}),
              client.post("/api/trace", content=b"x" * (MAX_BODY + 1)),
              client.post("/api/trace", content=b"{}", headers={"Content-Type": "text/plain"}),
              client.get("/healthz", headers={"Host": "attacker.example"}),
              client.get("/healthz", headers={"X-Big": "a" * 9000})]
    assert {r.status_code for r in cases} >= {200, 400, 404, 405, 413, 415, 422, 431}
    for res in cases:
        for name, value in server.HEADERS.items():
            assert res.headers.get(name) == value, (res.request.url, res.status_code, name)


def test_a_bug_of_ours_is_a_json_500_with_the_headers(model):
    class Broken(Held):
        def predict(self, texts):
            raise RuntimeError("a bug")

    c = TestClient(create_app(Broken(model)), base_url=BASE, raise_server_exceptions=False)
    res = c.post(PREDICT_PATH, json={"instances": ["great"]})
    assert res.status_code == 500 and res.json() == {"error": "internal error (RuntimeError)"}
    assert "frame-ancestors 'none'" in res.headers["content-security-policy"]


# ------------------------------------------------------ no 5xx from a client's mistake

MALFORMED = [
    b"1" * 5000, b'{"text": ' + b"9" * 5000 + b"}", b'{"index": ' + b"9" * 4301 + b"}",
    b'{"text": "great", "index": -' + b"9" * 5000 + b"}", b"NaN", b"Infinity", b"-Infinity",
    b'{"text": NaN}', b'{"text": "great", "index": Infinity}', b'{"text": "a", "index": 1e999}',
    b'{"instances": [-1e400]}', b'{"text": "a", "text": "b"}', b'{"instances": ["a"], '
    b'"instances": ["b"]}', b"[" * 50_000, b"{" * 50_000, b'{"a":' * 50_000,
    b'{"text": ' + b"[" * 3000 + b"]" * 3000 + b"}", b"\xff\xfe", b"\xef\xbb\xbf{}",
    b'{"text": "\\ud800"}', b'{"text": "\\udcff great"}', b'{"instances": ["\\udfff"]}',
    b'{"text": "great"', b'{"text": "great"}}', b'{"text": "great"} []', b"null", b"true",
    b"0", b'"great"', b"[]", b"{}", b'{"text": null}', b'{"text": {"a": 1}}',
    b'{"text": "great", "index": null}', b'{"text": "great", "index": 2.0}',
    b'{"text": "great", "index": 10000000000000000000000}', b'{"instances": [[]]}',
    b'{"instances": {"0": "a"}}', b"\x00", b'{"text": "\x00"}', b"{'text': 'great'}",
    b'{"text": "' + b"\\" * 1001 + b'"}', b'{"text": "\\u00"}', b" " * 1000,
    b'{"instances": ["a"], "signature_name": 5}', b'{"__proto__": {"text": "a"}}',
]


@pytest.mark.parametrize("path", list(BODIES))
def test_malformed_bodies_are_4xx_with_one_json_line(client, path):
    refused = 0
    for body in MALFORMED:
        res = client.post(path, content=body)
        assert res.status_code < 500, (path, body[:40], res.status_code, res.text)
        data = res.json()  # JSON whatever the answer
        if res.status_code >= 400:
            refused += 1
            assert data["error"] and "\n" not in data["error"], (path, body[:40])
    assert refused >= len(MALFORMED) - 4  # a few are valid for the routes that ignore "index"


@pytest.mark.parametrize("body, words", [
    (b'{"text": "great", "index": ' + b"9" * 5000 + b"}", "more than 100 digits"),
    (b'{"text": NaN}', "NaN is not a JSON number"),
    (b'{"text": "great", "index": -Infinity}', "-Infinity is not a JSON number"),
    (b'{"text": "a", "index": 1e999}', "too large for a number"),
    (b'{"text": "a", "text": "b"}', 'the key "text" is given twice'),
])
def test_json_that_python_would_take_is_refused_by_name(client, body, words):
    res = client.post("/api/leave-out", content=body)
    assert res.status_code == 400 and words in res.json()["error"]


def test_headers_over_the_bound_are_a_json_431(client):
    many = {f"X-H{i}": "v" * 100 for i in range(90)}
    for headers in (many, {"X-Big": "a" * 9000}, {"Cookie": "c=" + "x" * 8200}):
        res = client.get("/healthz", headers=headers)
        assert res.status_code == 431 and "8,192 bytes" in res.json()["error"]
    assert client.get("/healthz", headers={"X-Fine": "a" * 4000}).status_code == 200


def test_a_run_path_that_is_not_utf8_is_served(trained_run, tmp_path):
    odd = tmp_path / os.fsdecode(b"run-\xff\xfe")
    shutil.copytree(trained_run, odd)
    metrics = odd / "metrics.json"
    metrics.write_text(json.dumps({"accuracy": 0.5, "data": "\ud800 lone", "model": str(
        odd)}, ensure_ascii=True), encoding="utf-8")
    c = TestClient(create_app(sr.load(odd), load_metrics(metrics)), base_url=BASE)
    for res in (c.get("/healthz"), c.get("/api/run"), c.get("/api/model"),
                c.post("/api/trace", json={"text": "great"})):
        assert res.status_code == 200, res.text
        assert "run-\\xff\\xfe" in res.json()["model"]
    assert c.get("/api/run").json()["evaluation"]["data"] == "\ud800 lone"  # as a \u escape


# ------------------------------------------------- slow clients, on a real uvicorn server

@contextlib.contextmanager
def real_server(app, **settings):
    """uvicorn with serve's settings (short timeouts here) on 127.0.0.1, in a thread."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    srv = uvicorn.Server(webguard.uvicorn_config(app, **settings))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not srv.started:
            time.sleep(0.01)
        yield sock.getsockname()[1]
    finally:
        srv.should_exit = True
        thread.join(10)
        sock.close()


def _until_closed(conn: socket.socket, limit: float = 5.0) -> tuple[bytes, float]:
    """All the server sends until it closes the connection, and how long that took."""
    started, data = time.perf_counter(), b""
    conn.settimeout(limit)
    while True:
        try:
            chunk = conn.recv(65536)
        except socket.timeout:
            raise AssertionError(f"still open after {limit} s; got {data[:80]!r}") from None
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return data, time.perf_counter() - started
        data += chunk


def test_slow_and_idle_clients_are_cut_off(model):
    app = create_app(model, body_timeout=0.5)
    with real_server(app, head_timeout=0.5, keep_alive=0.5) as port:
        host = f"Host: 127.0.0.1:{port}\r\n".encode()

        def connect():
            return socket.create_connection(("127.0.0.1", port), timeout=5)

        with connect() as c:  # a whole request still works, and stays open a moment
            c.sendall(b"GET /healthz HTTP/1.1\r\n" + host + b"\r\n")
            data, took = _until_closed(c)
            assert data.startswith(b"HTTP/1.1 200") and b'"status":"ok"' in data
            assert 0.3 < took < 3  # then the idle keep-alive connection is closed
        with connect() as c:  # headers and half a body, then nothing
            c.sendall(b"POST /api/trace HTTP/1.1\r\n" + host + b"Content-Type: application/"
                      b"json\r\nContent-Length: 100\r\n\r\n{\"text\": \"gre")
            data, took = _until_closed(c)
            assert data.startswith(b"HTTP/1.1 408") and b'"error":"the body did not arrive' \
                in data and b"frame-ancestors" in data and took < 3
        for part in (b"", b"GET /healthz HTTP/1.1\r\n", b"GET /healthz HTTP/1.1\r\n" + host):
            with connect() as c:  # nothing, or part of a request's head
                c.sendall(part)
                data, took = _until_closed(c)
                assert data == b"" and 0.3 < took < 3
        with connect() as c:  # a head sent a byte at a time is cut at the same deadline
            started, closed = time.perf_counter(), None
            for byte in b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 60:
                try:
                    c.send(bytes([byte]))
                    c.settimeout(0.05)
                    if c.recv(100) == b"":
                        closed = time.perf_counter() - started
                        break
                except socket.timeout:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    closed = time.perf_counter() - started
                    break
            assert closed is not None and closed < 2.5
        with connect() as c:  # a large head that arrives whole: the app's JSON 431
            c.sendall(b"GET /healthz HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * 20_000 +
                      b"\r\n\r\n")
            data, took = _until_closed(c)
            assert data.startswith(b"HTTP/1.1 431") and b"8,192 bytes" in data and took < 3
        for size in (20_000, 500_000):  # over 16 KiB still incomplete: h11's own 400
            with connect() as c:
                try:
                    c.sendall(b"GET /healthz HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * size)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                data, took = _until_closed(c)
                assert data.startswith(b"HTTP/1.1 400") and took < 3
        with connect() as c:  # the Host check holds on the real server too
            c.sendall(b"GET /api/run HTTP/1.1\r\nHost: attacker.example\r\n\r\n")
            data, _ = _until_closed(c)
            assert data.startswith(b"HTTP/1.1 400") and b"Host header" in data
            assert b"tiny" not in data  # not the run's path


@pytest.mark.parametrize("method,path", [("GET", "/healthz"), ("GET", "/"),
                                         ("DELETE", "/api/trace"), ("OPTIONS", "/api/run"),
                                         ("HEAD", "/healthz")])
@pytest.mark.parametrize("framing", [b"Content-Length: 1000000\r\n",
                                     b"Transfer-Encoding: chunked\r\n"])
def test_a_body_on_a_request_that_takes_none_is_refused_and_the_connection_closed(
        model, method, path, framing):
    """A body that is never read would keep the connection as long as bytes trickle in."""
    app = create_app(model)
    with real_server(app) as port:  # serve's own timeouts: the close must come from the refusal
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode() +
                      framing + b"\r\n" + b"a")
            data, took = _until_closed(c, limit=3)
            assert data.startswith(b"HTTP/1.1 400") and b"frame-ancestors" in data, data[:200]
            if method != "HEAD":
                assert f"a {method} request carries no body".encode() in data
            assert took < 3


def test_head_is_answered_as_get_without_the_body(client):
    for path in ("/", "/healthz", "/api/run", "/static/app.js"):
        got, head = client.get(path), client.head(path)
        assert (head.status_code, got.status_code) == (200, 200), path
        assert head.content == b"" and head.headers["content-length"] == \
            got.headers["content-length"]
        assert "frame-ancestors 'none'" in head.headers["content-security-policy"]


def test_a_key_given_twice_among_many_is_found_in_linear_time(client):
    """The repeated key is found in one pass: a scan of every key per key takes 15 s on 20,000."""
    for n in (2_000, 60_000):
        body = "{" + ",".join(f'"k{i}":0' for i in range(n)) + f',"k{n - 1}":1,"text":"x"}}'
        started = time.perf_counter()
        res = client.post("/api/trace", content=body.encode(),
                          headers={"Content-Type": "application/json"})
        took = time.perf_counter() - started
        assert res.status_code == 400 and res.json()["error"] == \
            f'malformed JSON: the key "k{n - 1}" is given twice'
    assert took < 5  # quadratic: over 60 s here


def test_the_body_is_parsed_off_the_event_loop(model, monkeypatch):
    """JSON parsing runs in the thread pool, where a slow parse holds up no other request."""
    from sentiment_rnn.serve import bodies as webio

    seen = []
    real = webio._validated

    def spy(body, model_):
        try:
            asyncio.get_running_loop()
            seen.append("on the event loop")
        except RuntimeError:
            seen.append("in a thread")
        return real(body, model_)

    monkeypatch.setattr(webio, "_validated", spy)
    res = TestClient(create_app(model), base_url=BASE).post("/api/trace", json={"text": "great"})
    assert res.status_code == 200 and seen == ["in a thread"]


def test_past_the_connection_limit_uvicorn_answers_503(model):
    with real_server(create_app(model), max_connections=3, head_timeout=5) as port:
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        try:
            time.sleep(0.2)
            with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
                c.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
                data = c.recv(1000)
            assert data.startswith(b"HTTP/1.1 503")
        finally:
            for conn in idle:
                conn.close()


# ------------------------------------------------------- serve --metrics: small regular files

def _refused(path, words):
    box = []
    thread = threading.Thread(target=lambda: box.append(_catch(path)), daemon=True)
    thread.start()
    thread.join(10)
    assert box, f"load_metrics({path}) still reading after 10 s"
    assert isinstance(box[0], SentimentRNNError) and words in str(box[0]), box[0]
    assert "\n" not in str(box[0])


def _catch(path):
    try:
        load_metrics(path)
    except Exception as exc:  # noqa: BLE001 - the test checks the kind
        return exc
    return None


def test_metrics_from_a_device_a_fifo_or_a_huge_file_is_refused(tmp_path):
    _refused("/dev/zero", "not a regular file")
    os.mkfifo(tmp_path / "fifo")
    _refused(tmp_path / "fifo", "not a regular file")
    (tmp_path / "fifo-dir").mkdir()
    os.mkfifo(tmp_path / "fifo-dir" / "metrics.json")
    _refused(tmp_path / "fifo-dir", "not a regular file")
    (tmp_path / "empty").mkdir()
    _refused(tmp_path / "empty", "no metrics.json in this folder")
    with open(tmp_path / "huge.json", "wb") as f:
        f.truncate(webio.MAX_METRICS + 1)  # sparse: costs no disk
    _refused(tmp_path / "huge.json", "over 1,048,576 bytes")
    (tmp_path / "deep.json").write_text("[" * 100_000)
    _refused(tmp_path / "deep.json", "not a readable metrics.json")
    (tmp_path / "int.json").write_text('{"accuracy": ' + "1" * 5000 + "}")
    _refused(tmp_path / "int.json", "not a readable metrics.json")


def test_serve_refuses_dev_zero_as_metrics_in_one_line(trained_run):
    result = CliRunner().invoke(main, ["serve", "--model", str(trained_run), "--metrics",
                                       "/dev/zero", "--port", "0"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "/dev/zero: not a regular file" in result.output
    assert len(result.output.strip().splitlines()) == 1


# ------------------------------------------------------------ --host beyond this machine

@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]", "192.168.1.5", "10.0.0.1",
                                  "2001:db8::1", "fe80::1", "name.invalid"])
def test_a_host_other_machines_reach_is_warned_about(host):
    warning = webguard.host_warning(host)
    assert warning and "no authentication" in warning and host in warning


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost",
                                  "LOCALHOST"])
def test_loopback_is_not_warned_about(host):
    assert webguard.host_warning(host) is None


def test_serve_prints_the_warning(trained_run, monkeypatch):
    import uvicorn

    class Server:  # no uvicorn.Config: it would bind its log handlers to CliRunner's stderr
        def __init__(self, config):
            pass

        def run(self, sockets):
            pass

    monkeypatch.setattr(uvicorn, "Server", Server)
    monkeypatch.setattr(server, "uvicorn_config", lambda app: None)
    monkeypatch.setattr(webguard, "is_loopback", lambda host: False)
    result = CliRunner().invoke(main, ["serve", "--model", str(trained_run), "--port", "0"])
    assert result.exit_code == 0, result.output
    assert "Warning: listening on 127.0.0.1: the API has no authentication" in result.stderr
