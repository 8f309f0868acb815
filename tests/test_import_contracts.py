"""The package's layers hold: import-linter's contracts, and what each part imports at run time.

.importlinter states the contracts (layers, no cycles, no TensorFlow on the NumPy path); the
subprocess tests below check the same promises where import-linter cannot: at import time, and
while the NumPy path actually runs.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "tensorflow_datasets", "sklearn", "matplotlib")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_import_linter_keeps_every_contract():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_nothing_below_nn_imports_a_heavy_library_at_import_time():
    done = _run(f"""
        import importlib, pkgutil, sys
        import sentiment_rnn
        names = ["sentiment_rnn.config", "sentiment_rnn.errors"]
        for package in ("text", "files", "data"):
            pkg = importlib.import_module("sentiment_rnn." + package)
            names += [m.name for m in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + ".")]
        for name in names:
            importlib.import_module(name)
        heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
        print(len(names), heavy)
    """)
    assert done.returncode == 0, done.stderr[-2000:]
    count, heavy = done.stdout.split(" ", 1)
    assert int(count) >= 15  # text/, files/ and data/ were all found
    assert heavy.strip() == "[]"


def test_load_predict_trace_overview_and_serve_never_import_tensorflow(trained_run):
    done = _run(f"""
        import sys
        import sentiment_rnn as sr
        from sentiment_rnn.serve.app import create_app
        from starlette.testclient import TestClient
        model = sr.load({str(trained_run)!r})
        p = model.predict(["great fun", "awful"])
        model.trace("great fun, not boring").to_dict()
        model.overview()
        client = TestClient(create_app(model), base_url="http://127.0.0.1")
        answer = client.post("/api/trace", json={{"text": "great fun"}})
        print(answer.status_code, sorted({{m.split(".")[0] for m in sys.modules}}
                                         & {{"tensorflow", "keras", "tensorflow_datasets"}}))
    """)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["200", "[]"]
