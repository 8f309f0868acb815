"""The package's layers hold: import-linter's contracts, and what each part imports at run time.

.importlinter states the contracts (layers, no cycles, no TensorFlow on the NumPy path); the
subprocess tests below check the same promises where import-linter cannot: at import time, and
while the NumPy path actually runs.
"""

import configparser
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "tensorflow_datasets", "sklearn", "matplotlib")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _contracts() -> dict[str, dict[str, str]]:
    """.importlinter's contracts: id -> its settings."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    prefix = "importlinter:contract:"
    return {name[len(prefix):]: dict(config[name]) for name in config.sections()
            if name.startswith(prefix)}


def test_import_linter_keeps_every_contract():
    contracts = _contracts()
    assert sorted(c["type"] for c in contracts.values()) == [
        "acyclic_siblings", "forbidden", "forbidden", "layers"]  # none dropped or weakened
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in done.stdout


def test_the_layers_name_every_part_of_the_package():
    """A subpackage or module left out of the layers contract is free to import anything."""
    layers = _contracts()["layers"]["layers"]
    named = {name.strip() for line in layers.splitlines() for name in line.split("|")} - {""}
    package = ROOT / "sentiment_rnn"
    parts = {"sentiment_rnn." + (p.name if p.is_dir() else p.stem) for p in package.iterdir()
             if (p.is_dir() and (p / "__init__.py").is_file())
             or (p.suffix == ".py" and p.stem not in ("__init__", "__main__"))}
    assert len(parts) >= 12 and parts == named


def test_nothing_below_nn_imports_a_heavy_library_at_import_time():
    forbidden = _contracts()["below-nn"]["forbidden_modules"].split()
    assert set(HEAVY) <= set(forbidden)  # the contract names every heavy library
    names = ["sentiment_rnn.config", "sentiment_rnn.errors"]
    for package in ("text", "files", "data"):  # every module on disk, nested ones too
        found = sorted(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(
            ".__init__") for path in (ROOT / "sentiment_rnn" / package).rglob("*.py"))
        assert len(found) >= 3, package
        names += found
    done = _run(f"""
        import importlib, sys
        for name in {names!r}:
            importlib.import_module(name)
        print(sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r})))
    """)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_load_predict_trace_overview_and_serve_never_import_tensorflow(trained_run):
    done = _run(f"""
        import sys
        import sentiment_rnn as sr
        from sentiment_rnn.serve.app import PREDICT_PATH, create_app
        from starlette.testclient import TestClient
        model = sr.load({str(trained_run)!r})
        assert len(model.predict(["great fun", "awful"])) == 2
        model.classify(["great fun"]), model.ids("great fun"), model.weights
        trace = model.trace("great fun, not boring")
        trace.to_dict(), trace._repr_html_()
        model.overview()
        client = TestClient(create_app(model), base_url="http://127.0.0.1")
        answers = [client.get(path) for path in ("/", "/healthz", "/api/model", "/api/run",
                                                 "/v1/models/sentiment-rnn", "/static/app.js")]
        answers += [client.post("/api/trace", json={{"text": "great fun"}}),
                    client.post("/api/leave-out", json={{"text": "great fun", "index": 0}}),
                    client.post(PREDICT_PATH, json={{"instances": ["great fun"]}})]
        print(sorted({{a.status_code for a in answers}}), sorted(
            {{m.split(".")[0] for m in sys.modules}} & {{"tensorflow", "keras",
                                                      "tensorflow_datasets"}}))
    """)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["[200]", "[]"]
