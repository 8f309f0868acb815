"""What goes into and out of `serve`'s API: the request bodies and their one-line errors,
strict JSON parsing (no NaN, no 5,000-digit integers, no key given twice), JSON out that never
fails on a path that is not UTF-8, and the metrics.json that `serve --metrics` reads.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from sentiment_rnn.files.atomic import unique_keys

MAX_INSTANCES = 1000  # texts in one predict request
MAX_DIGITS = 100  # digits of an integer in a request body
MAX_METRICS = 1 << 20  # bytes of a metrics.json that `serve --metrics` reads


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


def message(error: dict) -> str:
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


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"an integer of more than {MAX_DIGITS} digits")
    return int(digits)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is too large for a number")
    return value


async def parse(request: Request, model: type[BaseModel]) -> Any:
    """The body (application/json, checked by the Guard) as `model`, or a BadRequest; parsed
    in the thread pool, so a large body never holds up the event loop."""
    body = await request.body()
    return await run_in_threadpool(_validated, body, model)


def _validated(body: bytes, model: type[BaseModel]) -> Any:
    if not body.strip():
        raise BadRequest("the body is empty: send a JSON object", 400)
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant,
                          parse_int=_int, parse_float=_float, object_pairs_hook=unique_keys)
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text", 400) from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                         400) from None
    except RecursionError:
        raise BadRequest("malformed JSON: nested too deeply", 400) from None
    except ValueError as exc:  # from the hooks above
        raise BadRequest(f"malformed JSON: {exc}", 400) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(message(exc.errors()[0])) from None


def body_doc(model: type[BaseModel]) -> dict:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}


class JSON(JSONResponse):
    """JSON as UTF-8; a string that UTF-8 cannot hold (a lone surrogate from a path or a
    metrics.json) is written as a \\u escape instead of failing the response."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode()


def error(status: int, message: str) -> JSONResponse:
    return JSON({"error": message}, status)


def path_text(path) -> str:
    """A path as text JSON can hold: bytes of the name that are not UTF-8 shown as \\xff."""
    text = str(path)
    try:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    except UnicodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _read_metrics(path: Path) -> bytes:
    """The file's bytes, read only if it is a regular file of at most MAX_METRICS bytes (a
    FIFO, a device such as /dev/zero or a huge file is refused, never read)."""
    from sentiment_rnn.errors import SentimentRNNError

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        where = f"{path.parent}: no metrics.json in this folder" if path.name == "metrics.json" \
            and isinstance(exc, FileNotFoundError) else f"{path}: cannot be read ({exc.strerror})"
        raise SentimentRNNError(where) from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SentimentRNNError(f"{path}: not a regular file; give the metrics.json that "
                                    f"`sentiment-rnn evaluate --report DIR` writes")
        data = f.read(MAX_METRICS + 1) if info.st_size <= MAX_METRICS else b""
        if info.st_size > MAX_METRICS or len(data) > MAX_METRICS:
            raise SentimentRNNError(f"{path}: over {MAX_METRICS:,} bytes, too large for a "
                                    f"metrics.json")
        return data


def load_metrics(path: str | Path) -> dict:
    """The test accuracy and what it was measured on, from `evaluate --report`'s metrics.json
    (or the folder that holds it)."""
    from sentiment_rnn.errors import SentimentRNNError

    path = Path(path) / "metrics.json" if Path(path).is_dir() else Path(path)
    try:
        data = json.loads(_read_metrics(path).decode("utf-8"))
    except RecursionError:
        raise SentimentRNNError(f"{path}: not a readable metrics.json (nested too deeply)") \
            from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise SentimentRNNError(f"{path}: not a readable metrics.json "
                                f"({str(exc).split(';')[0][:200]})") from None
    acc = data.get("accuracy") if isinstance(data, dict) else None
    if isinstance(acc, bool) or not isinstance(acc, (int, float)) or not 0 <= acc <= 1:
        raise SentimentRNNError(f"{path}: no accuracy between 0 and 1; give the metrics.json "
                                f"that `sentiment-rnn evaluate --report DIR` writes")
    n = data.get("n")
    return {"accuracy": float(acc), "n": n if type(n) is int else None, "path": path_text(path),
            **{k: data[k] if isinstance(data.get(k), str) else None for k in ("data", "model")}}
