"""`sentiment-rnn serve`: the model on a web page and behind a small JSON API, on the NumPy path.

    text -> Model.predict / .trace / .overview (api.py, NumPy only) -> JSON -> the page in static/

Routes: `/` the page (static/, no CDN; plots.colour_scale() written in as JSON), `POST
/v1/models/sentiment-rnn:predict` in TensorFlow Serving's REST shape, `POST /api/trace` (=
`inspect --json TEXT`, with each word's `index` and at most MAX_UNREAD words not read), `POST
/api/leave-out` (P with one word left out), `GET /api/model` (= `inspect --json --check 0`),
`GET /api/memory` (= `inspect --memory --json --reviews 200`, measured once: memory_panel.py),
`GET /api/run` (settings and the test accuracy from an optional metrics.json), `GET /healthz`,
`/openapi.json`. Every error is JSON `{"error": "one line"}`; a client's mistake is a 4xx, never
a 5xx. guard.py bounds what a client may send and who may send it. Never imports TensorFlow.
"""

from __future__ import annotations

import math
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from sentiment_rnn._version import __version__
from sentiment_rnn.serve.guard import (BODY_TIMEOUT, HEADERS, MAX_BODY, MAX_IN_FLIGHT, Guard, allowed_hosts,
                       host_warning, uvicorn_config)
from sentiment_rnn.serve.memory_panel import MemoryPanel
from sentiment_rnn.serve.bodies import (JSON, BadRequest, LeaveOutRequest, LeaveOutResponse, PredictRequest,
                    PredictResponse, TraceRequest, body_doc, error, load_metrics, message,
                    parse, path_text)

__all__ = ["HEADERS", "MAX_BODY", "create_app", "load_metrics", "serve"]
MAX_UNREAD = 1000  # rows of words not read that a trace lists; the others are only counted
STATIC = Path(__file__).with_name("static")
PREDICT_PATH = "/v1/models/sentiment-rnn:predict"


class _App(FastAPI):
    """FastAPI with the Guard outside all its middleware, its 500s included."""

    guard: dict = {}

    def build_middleware_stack(self):
        return Guard(super().build_middleware_stack(), **self.guard)


def _add_error_handlers(app: FastAPI) -> None:
    """Every error as JSON `{"error": "one line"}`: a client's mistake a 4xx, a bug of ours a
    500 that names only the exception's type."""

    @app.exception_handler(BadRequest)
    async def bad_request(request, exc: BadRequest):
        return error(exc.status, str(exc))

    @app.exception_handler(HTTPException)
    async def httperror(request, exc: HTTPException):
        message = {404: f"{request.url.path}: not found", 405: f"{request.method} is not "
                   f"allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
        return error(exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        return error(422, message(exc.errors()[0]))

    @app.exception_handler(Exception)
    async def failed(request, exc: Exception):  # a bug of ours: still one JSON line
        return error(500, f"internal error ({type(exc).__name__})")


def create_app(model, metrics: dict | None = None, *, host: str = "127.0.0.1",
               max_body: int = MAX_BODY, body_timeout: float = BODY_TIMEOUT,
               max_in_flight: int = MAX_IN_FLIGHT, data_dir: str | None = None) -> FastAPI:
    """The ASGI app for a loaded `sentiment_rnn.Model`; `metrics` from `load_metrics`. `host`:
    the address served, for the names a request's Host may give (webguard.allowed_hosts);
    `data_dir`: the tfds folder the Memory panel reads the validation reviews from.
    Long because its routes are closures over the loaded model and the JSON rendered once."""
    from sentiment_rnn.evaluation.plots import colour_scale
    from sentiment_rnn.nn.verdict import UNKNOWN, label

    overview = model.overview()  # once: the weights do not change while serving
    overview["model"] = path_text(overview["model"])
    run_info = {"model": path_text(model.run_dir), "version": __version__,
                "config": model.config.to_dict(),
                "parameters": sum(w["params"] for w in overview["weights"].values()),
                "evaluation": metrics}
    overview_json, run_json = JSON(overview).body, JSON(run_info).body  # rendered once
    page_html = (STATIC / "index.html").read_bytes().replace(  # the colours, as the plots'
        b"<!--colour-scale-->", b'<script id="colours" type="application/json">' +
        JSON(colour_scale()).body + b"</script>")
    app = _App(title="sentiment-rnn", version=__version__, docs_url=None, redoc_url=None,
               default_response_class=JSON,
               description="A recurrent sentiment model on its NumPy forward pass. The "
                           "interactive docs pages are off: they load scripts from a CDN.")
    app.guard = {"hosts": allowed_hosts(host), "max_body": max_body,
                 "body_timeout": body_timeout, "max_in_flight": max_in_flight}
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    _add_error_handlers(app)

    @app.get("/", include_in_schema=False)
    def page():
        return Response(page_html, media_type="text/html; charset=utf-8")

    @app.get("/healthz", summary="Liveness: the model is loaded")
    def healthz():
        return {"status": "ok", "model": run_info["model"]}

    @app.get("/v1/models/sentiment-rnn", summary="TF Serving's model status")
    def model_status():
        ok = {"error_code": "OK", "error_message": ""}
        return {"model_version_status": [{"version": "1", "state": "AVAILABLE", "status": ok}]}

    @app.post(PREDICT_PATH, response_model=PredictResponse, openapi_extra=body_doc(
        PredictRequest), summary="P(positive) of each text (TF Serving's REST shape)")
    async def predict(request: Request):
        texts = (await parse(request, PredictRequest)).instances

        def answer():
            probs = model.predict(texts)
            known = [not math.isnan(p) for p in probs]
            return JSON({
                "predictions": [float(p) if k else None for p, k in zip(probs, known)],
                "labels": [label(float(p)) if k else UNKNOWN for p, k in zip(probs, known)]})

        return await run_in_threadpool(answer)

    @app.post("/api/trace", openapi_extra=body_doc(TraceRequest),
              summary="How the network read a text (= `sentiment-rnn inspect --json TEXT`)")
    async def trace(request: Request):
        text = (await parse(request, TraceRequest)).text
        return await run_in_threadpool(lambda: JSON(bounded_trace(model, text)))

    @app.post("/api/leave-out", response_model=LeaveOutResponse, openapi_extra=body_doc(
        LeaveOutRequest), summary="P(positive) with one word of the text left out")
    async def leave_out(request: Request):
        body = await parse(request, LeaveOutRequest)
        return await run_in_threadpool(lambda: JSON(_leave_out(model, body.text, body.index)))

    @app.get("/api/model", summary="Weights, memory, top words (= `inspect --json --check 0`)")
    def model_overview():
        return Response(overview_json, media_type="application/json")

    panel = MemoryPanel(model.run_dir, data_dir)  # measured once, when first asked

    @app.get("/api/memory", summary="How far back it remembers (= `inspect --memory --json "
             "--reviews 200`): status idle, computing, done (with the report) or unavailable; "
             "start=true begins the one measurement")
    def memory(start: bool = False):
        state = panel.state(start)
        if state["report"] is not None:
            state["report"] = dict(state["report"], model=path_text(state["report"]["model"]))
        return state

    @app.get("/api/run", summary="The run's settings, parameter count and test accuracy")
    def run():
        return Response(run_json, media_type="application/json")

    return app


def bounded_trace(model, text: str, tokens: list[str] | None = None,
                  attributions: bool = True) -> dict:
    """`inspect --json TEXT`'s trace with each row's `index` among the text's words, listing
    every word read but at most MAX_UNREAD of the others (the last ones); `omitted` counts the
    words, cut and dropped ones and out-of-vocabulary words not listed. Costs memory for the
    rows listed only, whatever the text's length; the attributions cost at most
    attribution.MAX_STEPS + 1 backward passes over max_len words (`attributions=False`: none)."""
    from sentiment_rnn.text.tokenizer import tokenize
    from sentiment_rnn.text.vocabulary import OOV

    c = model.config
    tokens = tokenize(text) if tokens is None else tokens
    ids = model.run.vocab.lookup(tokens)
    kept = [i for i, id_ in enumerate(ids) if not (c.drop_oov and id_ == OOV)]
    if len(tokens) <= MAX_UNREAD + c.max_len:
        shown = list(range(len(tokens)))
        report = model.trace(text, attributions).to_dict()
    else:
        read = set(kept[-c.max_len:])
        unread = [i for i in range(len(tokens)) if i not in read]
        shown = sorted(read.union(unread[-MAX_UNREAD:]))
        words = [tokens[i] for i in shown]
        if tokenize(" ".join(words)) != words:  # never seen on any Unicode character
            raise BadRequest("this text cannot be traced exactly: its words change when "
                             "joined by spaces")
        report = model.trace(" ".join(words), attributions).to_dict()
        cut = max(0, len(kept) - c.max_len)
        report.update(text=text, cut=cut, truncated=cut > 0)
    rows = report["tokens"]
    for i, row in zip(shown, rows):
        row["index"] = i
    counted = sum(1 for r in rows if r["status"] == "cut")
    dropped = len(tokens) - len(kept) - sum(1 for r in rows if r["status"] == "dropped")
    oov = len({w for w, id_ in zip(tokens, ids) if id_ == OOV})
    report["model"] = path_text(report["model"])
    report["omitted"] = {"words": len(tokens) - len(rows), "cut": report["cut"] - counted,
                         "dropped": dropped, "oov_words": oov - len(report["oov_words"])}
    return report


def _leave_out(model, text: str, index: int) -> dict:
    """The trace of the text's words less the one at `index`, joined by spaces (the tokenizer
    gives the same words back), beside the text's own: the same NumPy pass as the page's."""
    from sentiment_rnn.nn.verdict import UNKNOWN
    from sentiment_rnn.text.tokenizer import tokenize
    from sentiment_rnn.text.vocabulary import OOV

    tokens = tokenize(text)
    if index >= len(tokens):
        raise BadRequest(f"index {index} is out of range: the text has {len(tokens)} words")
    whole = bounded_trace(model, text, tokens, attributions=False)
    row = next((r for r in whole["tokens"] if r["index"] == index), None)
    status = row["status"] if row is not None else "dropped" if model.config.drop_oov and \
        model.run.vocab.lookup([tokens[index]])[0] == OOV else "cut"
    rest = tokens[:index] + tokens[index + 1:]
    if tokenize(" ".join(rest)) != rest:  # never seen on any Unicode character; refuse, not guess
        raise BadRequest(f"the word at {index} cannot be left out exactly")
    part = bounded_trace(model, " ".join(rest), rest, attributions=False)
    full, without = whole["probability"], part["probability"]
    return {"index": index, "word": tokens[index], "status": status,
            "probability": full, "without": without,
            "label_without": UNKNOWN if without is None else part["label"],
            "change": None if full is None or without is None else without - full}


def serve(model_dir=None, host: str = "127.0.0.1", port: int = 8000, metrics_path=None) -> None:
    """Load the run, listen on host:port, print the URL and serve until Ctrl-C; notes go to
    standard error."""
    import socket
    import time

    import click
    import uvicorn

    from sentiment_rnn.api import load
    from sentiment_rnn.errors import SentimentRNNError

    started = time.perf_counter()
    model = load(model_dir)
    metrics = load_metrics(metrics_path) if metrics_path is not None else None
    app = create_app(model, metrics, host=host)
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)  # connections wait from now on, before uvicorn's loop runs
    except (OSError, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise SentimentRNNError(f"cannot listen on {host}:{port}: {why}") from None
    url = f"http://{f'[{host}]' if ':' in host else host}:{sock.getsockname()[1]}/"
    named = metrics["model"] if metrics is not None else None
    try:
        same = named is None or Path(named).resolve() == model.run_dir.resolve()
    except (OSError, ValueError):  # a name with a NUL byte, a loop of links
        same = False
    if not same:
        click.echo(f"Note: {metrics['path']} is for the model {path_text(named)}, not "
                   f"{path_text(model.run_dir)}; the page shows its accuracy with that name",
                   err=True)
    warning = host_warning(host)
    if warning:
        click.echo(warning, err=True)
    server = uvicorn.Server(uvicorn_config(app))
    ready = time.perf_counter() - started
    click.echo(f"Serving {model.run_dir} at {url}  (ready in {ready:.1f} s; Ctrl-C stops it)")
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down cleanly, then raises the captured SIGINT
        pass
    finally:
        sock.close()
    click.echo("Stopped.")
