"""examples/rnn_foundations.ipynb runs from top to bottom on a trained run and shows what it says.

The notebook is executed with nbclient in a fresh IPython kernel on this interpreter (a kernel
spec written for sys.executable, so an installed `python3` spec pointing elsewhere is never
used), once for the tests below, against the tiny test model through $SENTIMENT_RNN_MODEL, the
tiny LSTM run through $SENTIMENT_RNN_LSTM_MODEL and the tiny dataset through $TFDS_DATA_DIR.
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


def _cell(nb, tag: str):
    """The one code cell tagged `tag` (cell metadata), so a test can look at its outputs."""
    cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{len(cells)} cells tagged {tag!r}"
    return cells[0]


def _images(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


@pytest.fixture(scope="module")
def executed(trained_run, lstm_run, tiny_data_dir, tmp_path_factory):
    """The notebook run once, top to bottom, on the tiny trained run, with the tiny LSTM run
    beside it and the tiny dataset as $TFDS_DATA_DIR: (notebook, text, rich)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    tmp_path = tmp_path_factory.mktemp("notebook")
    kernels = tmp_path / "kernels"
    kernelspec.write_kernel_spec(kernels / "sentiment-rnn-test")  # argv[0] = sys.executable
    km = KernelManager(kernel_name="sentiment-rnn-test",
                       kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    # the kernel imports this checkout's package, installed (-e) or not
    env = dict(os.environ, SENTIMENT_RNN_MODEL=str(trained_run), TF_CPP_MIN_LOG_LEVEL="3",
               SENTIMENT_RNN_LSTM_MODEL=str(lstm_run), TFDS_DATA_DIR=str(tiny_data_dir),
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
    # 3. the trace: coloured words (three times: the review, the mistake, the LSTM's reading
    # of the review) and the plot
    assert sum("background:rgba(" in d.get("text/html", "") for d in rich) == 3
    # and the figures: trace.plot(), then chapter 6's gradient norm, SimpleRNN memory, LSTM h_t
    # and c_t, and both memory curves
    assert sum("image/png" in d for d in rich) == 5
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


def test_the_backward_loop_by_hand_equals_the_library_and_gradient_tape(executed):
    nb, text, _ = executed
    found = dict(re.findall(r"backward loop vs (model\.weights\.gradients|GradientTape): "
                            r"largest relative difference = (\S+) \(limit 1e-5\)", text))
    assert set(found) == {"model.weights.gradients", "GradientTape"}, text[-3000:]
    assert all(0 <= float(v) <= 1e-5 for v in found.values()), found
    assert _cell(nb, "bptt-check").outputs  # the comparison cell printed it


def test_the_gradient_norm_is_shown_word_by_word_back_from_the_end(executed):
    nb, text, _ = executed
    cell = _cell(nb, "gradient-norm")
    assert _images(cell) == 1  # the log-axis figure
    printed = "".join(o.text for o in cell.outputs if o.output_type == "stream")
    read = int(re.search(r"\d+ words, (\d+) of them read", text)[1])
    assert read == 12  # the tiny run's max_len: the review is longer
    rows = re.findall(r"^ *(\d+)  \S+ +(\d\.\d\de[+-]\d\d)$", printed, re.M)
    assert [int(k) for k, _ in rows] == list(range(1, read + 1))
    first, last = float(rows[0][1]), float(rows[-1][1])
    change = re.search(r"the gradient's size changed x(\S+): x(\S+) per word", printed)
    assert change and float(change[1]) == pytest.approx(last / first, rel=0.05)
    assert float(change[2]) == pytest.approx((last / first) ** (1 / (read - 1)), rel=0.01)


def _printed_half_lives(text: str, name: str) -> tuple[str, str, int]:
    """(gradient, leave-one-out, reviews) as the notebook printed them for `name`, the same
    each time it printed them."""
    value = r"(none|\d+\.\d\d)(?: words| \(the curve does not fall\))"
    found = set(re.findall(rf"\b{name} half-life: gradient {value}, leave-one-out {value} "
                           rf"\(over (\d+) ", text))
    assert len(found) == 1, f"{name}'s half-lives printed: {found}"
    gradient, leave_one_out, reviews = found.pop()
    return gradient, leave_one_out, int(reviews)


@pytest.fixture(scope="module")
def memories(executed, trained_run, lstm_run, tiny_data_dir) -> dict[str, dict]:
    """`sr.load(run).memory(reviews=N).to_dict()` in this process, N the notebook's own, for
    both runs."""
    import sentiment_rnn as sr

    source = "".join(c.source for c in executed[0].cells if c.cell_type == "code")
    reviews = int(re.search(r"^reviews = (\d+)", source, re.M)[1])
    return {name: sr.load(run).memory(reviews=reviews, data_dir=tiny_data_dir).to_dict()
            for name, run in (("SimpleRNN", trained_run), ("LSTM", lstm_run))}


def test_the_half_lives_printed_are_model_memorys(executed, memories):
    nb, text, _ = executed
    for name, report in memories.items():
        expected = tuple("none" if report[key]["half_life"] is None else
                         f"{report[key]['half_life']:.2f}" for key in ("gradient",
                                                                        "leave_one_out"))
        assert _printed_half_lives(text, name) == (*expected, report["reviews"]), name
    assert _images(_cell(nb, "memory-simple")) == 1  # Memory.plot()


def test_the_lstm_section_ran_on_the_lstm_run(executed, lstm_run):
    nb, text, _ = executed
    assert "No LSTM run found" not in text
    assert re.search(rf"<Model {re.escape(str(lstm_run))}: Embedding\(\d+, 8\) -> LSTM\(6\)",
                     text)
    trace = _cell(nb, "lstm-trace")
    assert any("text/html" in o.get("data", {}) for o in trace.outputs) and _images(trace) == 1
    sizes = re.search(r"largest \|h_t\|: (\S+) +largest \|c_t\|: (\S+)", text)
    assert sizes and 0 < float(sizes[1]) < 1 and float(sizes[2]) > 0  # h = o tanh(c) is bounded
    assert _images(_cell(nb, "lstm-memory")) == 1  # both runs' curves in one figure


def test_the_reading_says_what_the_half_lives_say(executed, memories):
    _, text, _ = executed
    assert "What these numbers say, for these two runs on " in text
    for key, measure in (("gradient", "gradient"), ("leave_one_out", "leave-one-out")):
        line = re.search(rf"^- {measure}: (.*)$", text, re.M)[1]
        simple, lstm = (memories[name][key]["half_life"] for name in ("SimpleRNN", "LSTM"))
        if simple is None or lstm is None:
            assert line.startswith("no comparison, as a curve does not fall"), line
            continue
        ratio = lstm / simple
        how = ("about as long as" if 0.8 <= ratio <= 1.25 else
               "longer than" if ratio > 1 else "shorter than")
        assert line == (f"the LSTM's half-life ({lstm:.1f} words) is {how} the SimpleRNN's "
                        f"({simple:.1f} words), x{ratio:.2f}."), line
