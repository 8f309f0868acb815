"""`sentiment-rnn serve`: the model on a web page and behind a small JSON API, on the NumPy path.

    text -> Model.predict / .trace / .overview (api.py, NumPy only) -> JSON -> the page in static/

Routes: `/` the page (static/, no CDN), `POST /v1/models/sentiment-rnn:predict` in TensorFlow
Serving's REST shape, `POST /api/trace` (= `inspect --json TEXT`), `POST /api/leave-out` (P with
one word left out), `GET /api/model` (= `inspect --json --check 0`), `GET /api/run` (settings and
the test accuracy from an optional metrics.json), `GET /healthz`, `/openapi.json`. Every error is
JSON `{"error": "one line"}`; a client's mistake is a 4xx, never a 5xx. Never imports TensorFlow.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from . import __version__

MAX_BODY = 1 << 20  # bytes of a request body; more is a 413
MAX_INSTANCES = 1000  # texts in one predict request
STATIC = Path(__file__).with_name("static")
PREDICT_PATH = "/v1/models/sentiment-rnn:predict"
HEADERS = {  # the page loads nothing from elsewhere; nothing may frame it
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status  # 400: not JSON; 422: JSON of the wrong shape


Text = Annotated[str, Field(strict=True, min_length=1)]


class PredictRequest(BaseModel):
    """TensorFlow Serving's row format, one review per instance; signature_name is ignored."""
    instances: list[Text] = Field(min_length=1, max_length=MAX_INSTANCES,
                                  examples=[["A wonderful film.", "Dull and far too long."]])
    signature_name: str | None = None


class PredictResponse(BaseModel):
    """P(positive) per instance, null for a text with no word the model knows; the labels
    (threshold 0.5) are positive, negative or unknown."""
    predictions: list[float | None]
    labels: list[str]


class TraceRequest(BaseModel):
    text: Text = Field(examples=["A great cast, but a dull and stupid plot."])


class LeaveOutRequest(TraceRequest):
    """`index`: the word's position in the trace's tokens, from 0."""
    index: int = Field(strict=True, ge=0)


class LeaveOutResponse(BaseModel):
    """P(positive) of the text (`probability`) and without the word (`without`), as the trace
    computes it; null where no known word is read. `status`: read, dropped or cut."""
    index: int
    word: str
    status: str
    probability: float | None
    without: float | None
    label_without: str
    change: float | None


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "the body"


def _message(error: dict) -> str:
    """A pydantic error as one clear line."""
    where, kind, ctx = _where(error["loc"]), error["type"], error.get("ctx", {})
    if kind == "missing":
        return f"{where} is missing"
    if kind == "string_too_short":
        return f"{where} is empty"
    if kind == "string_unicode":
        return f"{where} is not valid Unicode (it holds a lone surrogate)"
    if kind == "too_short" and where == "instances":
        return "instances is empty: give at least one text"
    if kind == "too_long" and where == "instances":
        got = f", got {ctx['actual_length']:,}" if ctx.get("actual_length") else ""
        return f"at most {MAX_INSTANCES:,} instances per request{got}"
    if kind in ("model_type", "model_attributes_type", "dict_type") and where == "the body":
        return "the body must be a JSON object"
    return f"{where}: {error['msg']}"


async def _parse(request: Request, model: type[BaseModel]) -> Any:
    """The body as `model`, whatever the Content-Type (curl -d sends a form type), or a
    BadRequest with one line."""
    body = await request.body()
    if not body.strip():
        raise BadRequest("the body is empty: send a JSON object", 400)
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text", 400) from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                         400) from None
    except RecursionError:
        raise BadRequest("malformed JSON: nested too deeply", 400) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(_message(exc.errors()[0])) from None


def _body_doc(model: type[BaseModel]) -> dict:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status, headers=HEADERS)


class BodyLimit:
    """Reads a request's body before the app does and answers 413 past `limit` bytes."""

    def __init__(self, app, limit: int = MAX_BODY):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_big = _error(413, f"the body is over {self.limit:,} bytes")
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            return await too_big(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await too_big(scope, receive, send)
            more = message.get("more_body", False)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


def load_metrics(path: str | Path) -> dict:
    """The test accuracy and what it was measured on, from `evaluate --report`'s metrics.json."""
    from .errors import SentimentRNNError

    path = Path(path) / "metrics.json" if Path(path).is_dir() else Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SentimentRNNError(f"{path}: not a readable metrics.json ({exc})") from None
    acc = data.get("accuracy") if isinstance(data, dict) else None
    if isinstance(acc, bool) or not isinstance(acc, (int, float)) or not 0 <= acc <= 1:
        raise SentimentRNNError(f"{path}: no accuracy between 0 and 1; give the metrics.json "
                                f"that `sentiment-rnn evaluate --report DIR` writes")
    n = data.get("n")
    return {"accuracy": float(acc), "n": n if type(n) is int else None, "path": str(path),
            **{k: data[k] if isinstance(data.get(k), str) else None for k in ("data", "model")}}


def create_app(model, metrics: dict | None = None) -> FastAPI:
    """The ASGI app for a loaded `sentiment_rnn.Model`; `metrics` from `load_metrics`."""
    from .predict import UNKNOWN, label

    overview = model.overview()  # once: the weights do not change while serving
    run_info = {"model": str(model.run_dir), "version": __version__,
                "config": model.config.to_dict(),
                "parameters": sum(w["params"] for w in overview["weights"].values()),
                "evaluation": metrics}
    app = FastAPI(title="sentiment-rnn", version=__version__, docs_url=None, redoc_url=None,
                  description="A SimpleRNN sentiment model on its NumPy forward pass. The "
                              "interactive docs pages are off: they load scripts from a CDN.")
    app.add_middleware(BodyLimit)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(BadRequest)
    async def bad_request(request, exc: BadRequest):
        return _error(exc.status, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        message = {404: f"{request.url.path}: not found", 405: f"{request.method} is not "
                   f"allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
        return _error(exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        return _error(422, _message(exc.errors()[0]))

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", headers=HEADERS)

    @app.get("/healthz", summary="Liveness: the model is loaded")
    def healthz():
        return {"status": "ok", "model": str(model.run_dir)}

    @app.get("/v1/models/sentiment-rnn", summary="TF Serving's model status")
    def model_status():
        ok = {"error_code": "OK", "error_message": ""}
        return {"model_version_status": [{"version": "1", "state": "AVAILABLE", "status": ok}]}

    @app.post(PREDICT_PATH, response_model=PredictResponse, openapi_extra=_body_doc(
        PredictRequest), summary="P(positive) of each text (TF Serving's REST shape)")
    async def predict(request: Request):
        texts = (await _parse(request, PredictRequest)).instances
        probs = await run_in_threadpool(model.predict, texts)
        known = [not math.isnan(p) for p in probs]
        return JSONResponse({
            "predictions": [float(p) if k else None for p, k in zip(probs, known)],
            "labels": [label(float(p)) if k else UNKNOWN for p, k in zip(probs, known)]})

    @app.post("/api/trace", openapi_extra=_body_doc(TraceRequest),
              summary="How the network read a text (= `sentiment-rnn inspect --json TEXT`)")
    async def trace(request: Request):
        text = (await _parse(request, TraceRequest)).text
        return JSONResponse(await run_in_threadpool(lambda: model.trace(text).to_dict()))

    @app.post("/api/leave-out", response_model=LeaveOutResponse, openapi_extra=_body_doc(
        LeaveOutRequest), summary="P(positive) with one word of the text left out")
    async def leave_out(request: Request):
        body = await _parse(request, LeaveOutRequest)
        return JSONResponse(await run_in_threadpool(_leave_out, model, body.text, body.index))

    @app.get("/api/model", summary="Weights, memory, top words (= `inspect --json --check 0`)")
    def model_overview():
        return JSONResponse(overview)

    @app.get("/api/run", summary="The run's settings, parameter count and test accuracy")
    def run():
        return JSONResponse(run_info)

    return app


def _leave_out(model, text: str, index: int) -> dict:
    """The trace of the text's tokens less the one at `index`, joined by spaces (the tokenizer
    gives the same tokens back), beside the text's own: the same NumPy pass as the page's."""
    from .predict import UNKNOWN
    from .text import tokenize

    whole = model.trace(text).to_dict()
    tokens = [row["word"] for row in whole["tokens"]]
    if index >= len(tokens):
        raise BadRequest(f"index {index} is out of range: the text has {len(tokens)} words")
    rest = tokens[:index] + tokens[index + 1:]
    if tokenize(" ".join(rest)) != rest:  # never seen on any Unicode character; refuse, not guess
        raise BadRequest(f"the word at {index} cannot be left out exactly")
    part = model.trace(" ".join(rest)).to_dict()
    full, without = whole["probability"], part["probability"]
    return {"index": index, "word": tokens[index], "status": whole["tokens"][index]["status"],
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

    from .api import load
    from .errors import SentimentRNNError

    started = time.perf_counter()
    model = load(model_dir)
    metrics = load_metrics(metrics_path) if metrics_path is not None else None
    app = create_app(model, metrics)
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)  # connections wait from now on, before uvicorn's loop runs
    except OSError as exc:
        raise SentimentRNNError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    url = f"http://{f'[{host}]' if ':' in host else host}:{sock.getsockname()[1]}/"
    if metrics is not None and Path(str(metrics["model"])).resolve() != model.run_dir.resolve():
        click.echo(f"Note: {metrics['path']} is for the model {metrics['model']}, not "
                   f"{model.run_dir}; the page shows its accuracy with that name", err=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Note: listening on {host}: other machines can reach it, with no password",
                   err=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           lifespan="off"))
    ready = time.perf_counter() - started
    click.echo(f"Serving {model.run_dir} at {url}  (ready in {ready:.1f} s; Ctrl-C stops it)")
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down cleanly, then raises the captured SIGINT
        pass
    finally:
        sock.close()
    click.echo("Stopped.")
