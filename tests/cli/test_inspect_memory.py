"""`sentiment-rnn inspect --memory`: its table, JSON, plot and one-line errors, on the tiny run;
and `Model.memory` giving the same report."""

import json
import os

import pytest
from click.testing import CliRunner

import sentiment_rnn as sr
from sentiment_rnn.cli.commands import main
from sentiment_rnn.inspection.memory import memory
from sentiment_rnn.inspection.trace import load


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def report(trained_run, tiny_data_dir):
    result = invoke("inspect", "--model", trained_run, "--memory", "--json", "--reviews", "5",
                    "--data-dir", tiny_data_dir)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_json_is_the_library_report_over_the_first_n_validation_reviews(report, trained_run,
                                                                         tiny_data_dir):
    run, model = load(trained_run)
    direct = memory(run, model, 5, tiny_data_dir)
    for key in ("gradient", "leave_one_out", "probe", "source", "reviews", "split_checked"):
        assert report[key] == direct[key]
    assert report["source"] == "IMDB validation reviews" and report["reviews"] == 5
    assert report["split_checked"] == "count, labels sha256, ids sha256"
    assert report["gradient"]["k"] == list(range(1, 13))  # max_len 12
    assert report["probe"]["rows"][0]["k"] == 0


def test_the_table_shows_each_grid_k_the_half_lives_and_the_probe(trained_run, tiny_data_dir,
                                                                  report, tmp_path):
    plot = tmp_path / "memory.png"
    result = invoke("inspect", "--model", trained_run, "--memory", "--reviews", "5",
                    "--data-dir", tiny_data_dir, "--plot", plot)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == ("Memory over 5 IMDB validation reviews (the split checked against "
                        "training's: count, labels sha256, ids sha256)")
    assert lines[3].split() == ["k", "mean", "|d", "logit", "/", "d", "x|", "mean", "|dP|",
                                "reviews"]
    g, loo = report["gradient"], report["leave_one_out"]
    rows = [line.split() for line in lines[4:4 + 12]]
    for row, k, change, n in zip(rows, loo["k"], loo["mean_abs_change"], loo["reviews"]):
        norm = g["mean_norm"][k - 1]
        assert row == [str(k), "-" if norm is None else f"{norm:.3e}",
                       "-" if change is None else f"{change:.4f}", str(n)]

    def half(curve):
        h = curve["half_life"]
        return f"{h:.1f} words" if h is not None else "no decay" if "slope" in curve and \
            curve["slope"] is not None else "not fitted (fewer than 2 k)"

    assert f"Half-life: gradient {half(g)}, leave-one-out {half(loo)}" in lines
    start = lines.index("    k  accuracy  lowest  highest  positive  negative  sentences")
    keys = ("accuracy", "lowest", "highest", "positive", "negative")
    for line, row in zip(lines[start + 1:], report["probe"]["rows"]):
        assert line.split() == [str(row["k"]), *("-" if row[key] is None else f"{row[key]:.3f}"
                                                 for key in keys), str(row["sentences"])]
        assert len(line) == len(lines[start])  # columns aligned, "-" included
    assert any(row["accuracy"] is None for row in report["probe"]["rows"])  # max_len 12: k >= 20
    assert lines[-1] == f"Plot: {plot}"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000


@pytest.mark.parametrize("args, message", [
    (["--reviews", "0"], "Invalid value for '--reviews': 0 is not in the range x>=1."),
    (["--reviews", "5"], "--reviews needs --memory"),
    (["--memory", "great"], "--memory takes no TEXT"),
    (["--memory", "--plot", "{tmp}/no/such/m.png"], "the folder {tmp}/no/such does not exist"),
    (["--memory", "--plot", "{tmp}"], "is a directory"),
    (["--memory", "--plot", "{tmp}/m.jpg"], "m.jpg is not a .png file name"),
])
def test_bad_input_is_one_line(trained_run, tmp_path, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    result = invoke("inspect", "--model", trained_run, *args)
    assert result.exit_code == 2
    assert message.format(tmp=tmp_path) in result.output
    assert "Traceback" not in result.output


def test_an_unwritable_plot_path_is_one_line(trained_run, tiny_data_dir, tmp_path):
    """Refused before measuring where the folder's permissions say so; root may pass that
    check, and then the failed write is the one line."""
    plot = "/proc/sentiment-rnn-memory.png"
    result = invoke("inspect", "--model", trained_run, "--memory", "--reviews", "2",
                    "--data-dir", tiny_data_dir, "--plot", plot)
    assert result.exit_code in (1, 2) and len(result.output.splitlines()) == 1
    assert result.output.startswith("Error: ") and "/proc" in result.output
    assert "not writable" in result.output or "could not be written" in result.output
    assert not os.path.exists(plot)


def test_the_plot_never_lands_in_the_run_folder(run_copy, tiny_data_dir):
    """learning_curves.png is training's: a --plot there is refused before any measuring."""
    before = (run_copy / "learning_curves.png").read_bytes()
    result = invoke("inspect", "--model", run_copy, "--memory", "--reviews", "2",
                    "--data-dir", tiny_data_dir, "--plot", run_copy / "learning_curves.png")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith(
        f"Error: Invalid value for --plot: {run_copy / 'learning_curves.png'} is inside the run "
        f"folder {run_copy}; write the picture elsewhere")
    assert (run_copy / "learning_curves.png").read_bytes() == before


def test_a_folder_that_is_not_a_run_is_one_line(tmp_path):
    result = invoke("inspect", "--model", tmp_path, "--memory")
    assert result.exit_code == 1 and len(result.output.splitlines()) == 1
    assert result.output.startswith("Error: ")


def test_model_memory_gives_the_same_report(trained_run, tiny_data_dir, report):
    got = sr.load(trained_run).memory(reviews=5, data_dir=tiny_data_dir)
    assert got.to_dict()["gradient"] == report["gradient"]
    assert got.half_lives == {"gradient": report["gradient"]["half_life"],
                              "leave_one_out": report["leave_one_out"]["half_life"]}
    assert got.plot().axes  # a matplotlib Figure with its axes
    with pytest.raises(ValueError, match="at least 1"):
        sr.load(trained_run).memory(reviews=0)


def test_the_probe_draws_its_neutral_words_from_the_training_part(report, trained_run,
                                                                   tiny_data_dir):
    """The docs' rule: neutral words from the run's training part only, never the validation
    reviews the probe is measured on (which give other words on the tiny data)."""
    from sentiment_rnn.inspection.probe import neutral_words
    from sentiment_rnn.inspection.validation import run_parts

    run, _ = load(trained_run)
    parts = run_parts(run, tiny_data_dir)
    assert report["probe"]["neutral_words"] == neutral_words(run.vocab, *parts.train)
    assert report["probe"]["neutral_words"] != neutral_words(run.vocab, *parts.validation)
    assert report["probe"]["of_reviews"] == 5
