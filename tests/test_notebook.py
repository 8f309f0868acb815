"""examples/rnn_foundations.ipynb runs from top to bottom on a trained run and shows what it says.

The notebook is executed with nbclient in a fresh IPython kernel on this interpreter (a kernel
spec written for sys.executable, so an installed `python3` spec pointing elsewhere is never
used), once for the tests below, against the tiny test model through $SENTIMENT_RNN_MODEL.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
kernelspec = pytest.importorskip("ipykernel.kernelspec")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "rnn_foundations.ipynb"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_the_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


def _outputs(nb) -> tuple[str, list[dict]]:
    """All text a cell printed or returned, and every rich output's data."""
    text, rich = [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                text.append(out.text)
            elif out.output_type in ("display_data", "execute_result"):
                rich.append(out.data)
                text.append(out.data.get("text/plain", ""))
    return "".join(text), rich


@pytest.fixture(scope="module")
def executed(trained_run, tmp_path_factory):
    """The notebook run once, top to bottom, on the tiny trained run: (notebook, text, rich)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    tmp_path = tmp_path_factory.mktemp("notebook")
    kernels = tmp_path / "kernels"
    kernelspec.write_kernel_spec(kernels / "sentiment-rnn-test")  # argv[0] = sys.executable
    km = KernelManager(kernel_name="sentiment-rnn-test",
                       kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    # the kernel imports this checkout's package, installed (-e) or not
    env = dict(os.environ, SENTIMENT_RNN_MODEL=str(trained_run), TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get(
                   "PYTHONPATH")])]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    work = tmp_path / "cwd"  # no models/latest here: the run must come from the environment
    work.mkdir()
    client = nbclient.NotebookClient(nb, km=km, timeout=120,
                                     resources={"metadata": {"path": str(work)}})
    try:
        client.execute(env=env)  # raises CellExecutionError at the first cell that fails
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    return (nb, *_outputs(nb))


def test_the_notebook_runs_on_a_trained_run(executed, trained_run):
    nb, text, rich = executed
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    # 1. the run from $SENTIMENT_RNN_MODEL, its config and size
    assert str(trained_run) in text
    assert re.search(r"units +6\n", text) and re.search(r"max_len +12\n", text)
    assert "total" in text and "321 parameters" in text
    # 2. the hand-written loop equals model.predict and Keras (the notebook asserts the limits)
    assert "parity: NumPy loop vs model.predict: |difference| = " in text
    assert "parity: NumPy loop vs Keras: |difference| = " in text
    # 3. the trace: coloured words (twice: the review and the mistake) and the plot
    assert sum("background:rgba(" in d.get("text/html", "") for d in rich) == 2
    assert sum("image/png" in d for d in rich) == 1
    # 4. words and memory
    assert "likes" in text and "dislikes" in text
    assert "spectral radius of W_hh: rho = " in text
    # 5. a mistake among the candidates, explained from its trace
    assert "A mistake: " in text
    assert "largest moves:" in text and "The biggest single move is " in text
    assert "were dropped before the RNN read anything" in text


def test_the_seeds_keras_model_takes_the_trained_weights(executed):
    _, text, _ = executed
    plain = ANSI.sub("", text)  # summary() prints through rich, in colour
    # the seed's model as it wrote it: Embedding(1000, 32) -> SimpleRNN(32) -> Dense(1)
    assert re.search(r"embedding(_\d+)? \(Embedding\) +│ \(None, None, 32\) +│ +32,000 │",
                     plain)
    assert "Total params: 34,113 " in plain
    # the tiny run is not the seed's size: the same layers at its sizes, its arrays in Keras' order
    assert re.search(r"This run is Embedding\(\d+, 8\) -> SimpleRNN\(6\), not the seed's", plain)
    assert re.search(r"simple_rnn(_\d+)? +recurrent_kernel +\(6, 6\) +<- W_hh\n", plain)
    # and it predicts what the NumPy pass does (an array in the wrong place would not)
    parity = re.search(r"parity: seed's Keras model vs model\.predict: max \|difference\| = "
                       r"(\S+) over (\d+) texts", plain)
    assert parity, plain[-2000:]
    assert float(parity[1]) <= 1e-5 and int(parity[2]) == 4
