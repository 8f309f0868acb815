"""Model files, by class: weights.npz checked by its headers before any array is read, bounded run
files and configurations, no silently unverified model file (and `seal` to trust an edit), a
weights.npz that is not an npz, a broken models/latest, and every dtype without a stray warning.

The tiny trained run (conftest) has vocab_size 28, embed_dim 8, units 6."""

import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

import sentiment_rnn as sr
from conftest import TINY_TRAIN_ARGS
from sentiment_rnn.cli.commands import main
from sentiment_rnn.config import TrainConfig
from sentiment_rnn.errors import ConfigError, RunFolderError
from sentiment_rnn.nn.numpy_rnn import NAMES, NumpyRNN
from sentiment_rnn.prediction.predictor import Predictor

UNVERIFIED = ("{run}: {name} is unverified ({why}); if you changed the run on purpose, seal it: "
              "sentiment-rnn seal {run}")
NO_STATE = "state.json, which records the sha256 of the model files, is missing"


def invoke(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def one_line_error(result, message, code=1):
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, result.output
    assert result.output == f"Error: {message}\n"


def weights(run):
    with np.load(run / "weights.npz") as npz:
        return {name: npz[name] for name in npz.files}


def record(run, *names):
    """Record the files' sha256 in state.json, as training would have: the loader decides."""
    state = json.loads((run / "state.json").read_text())
    for name in names or ("weights.npz",):
        state["sha256"][name] = hashlib.sha256((run / name).read_bytes()).hexdigest()
    (run / "state.json").write_text(json.dumps(state))


def npy(shape, descr="<f4", data=b""):
    """An .npy member: a header declaring `shape` and `descr`, then `data` (maybe far less)."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": descr, "fortran_order": False,
                                               "shape": shape})
    return out.getvalue() + data


def write_npz(path, members):
    """A zip written by hand: member name -> bytes, in order (names may repeat)."""
    path.unlink(missing_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)


def good_members(run, **replace):
    arrays = weights(run)
    members = [(f"{n}.npy", npy(arrays[n].shape, arrays[n].dtype.str, arrays[n].tobytes()))
               for n in NAMES if n not in replace]
    return members + [(f"{n}.npy", data) for n, data in replace.items()]


# --- 1. weights.npz is checked by its headers; sizes are bounded --------------------------------

@pytest.mark.parametrize("name, header, why", [
    ("embedding", npy((200_000, 4096)), "does not match config.json (weight embedding has shape "
                                        "(200000, 4096), expected (28, 8))"),
    ("W_hh", npy((6, 6, 10**9)), "does not match config.json (weight W_hh has shape "
                                 "(6, 6, 1000000000), expected (6, 6))"),  # wrong rank
    ("b_y", npy((2**62,), "<f8"), f"does not match config.json (weight b_y has shape ({2**62},), "
                                  f"expected (1,))"),
    ("embedding", npy((28, 8), "|V100000000"), "is unusable (weight embedding holds |V100000000, "
                                               "not floating-point numbers)"),
    ("W_xh", npy((8, 6), "<U10000000"), "is unusable (weight W_xh holds <U10000000, not "
                                        "floating-point numbers)"),
    ("W_hh", npy((6, 6), "|O"), "is unusable (weight W_hh holds Python objects, not numbers; "
                                "such arrays are never read)"),
])
def test_a_header_is_refused_before_its_array_is_read(run_copy, name, header, why):
    # only the header is there: a loader that read the array first would say EOF instead
    write_npz(run_copy / "weights.npz", good_members(run_copy, **{name: header}))
    record(run_copy)
    one_line_error(invoke("predict", "--model", run_copy, "great"),
                   f"{run_copy}: weights.npz {why}")


def test_no_more_than_the_declared_array_is_decompressed(run_copy):
    # the embedding of the right shape is followed by 100 MB of zeros (100 KB compressed), and
    # a member named `embedding` (no .npy) holds 100 MB more: none of it is decompressed
    zeros = bytes(100 << 20)
    members = [(n, d + zeros if n == "embedding.npy" else d) for n, d in good_members(run_copy)]
    write_npz(run_copy / "weights.npz", members + [("embedding", zeros)])
    record(run_copy)
    tracemalloc.start()
    try:
        model = Predictor(run_copy)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 << 20, peak
    assert model.predict(["great"])[0] > 0.5


@pytest.mark.filterwarnings("ignore:Duplicate name")  # zipfile's, as the file is written
def test_an_npz_with_a_weight_twice_is_refused(run_copy):
    members = good_members(run_copy)
    write_npz(run_copy / "weights.npz", members + [members[0]])
    record(run_copy)
    one_line_error(invoke("predict", "--model", run_copy, "great"),
                   f"{run_copy}: weights.npz is not a usable .npz file (embedding.npy is in it "
                   f"more than once)")


@pytest.mark.parametrize("changes, why", [
    ({"vocab_size": 200_000, "embed_dim": 4096},
     "the model would have 819,224,625 weights (vocab_size x embed_dim + embed_dim x units + "
     "units x units + ...); at most 50,000,000)"),
    ({"vocab_size": 12_000, "embed_dim": 4096}, "the model would have 49,176,625 weights"),
    ({"units": 5000}, "units must be at most 4,096, got 5000)"),
    ({"embed_dim": 10**9}, "embed_dim must be at most 4,096, got 1000000000)"),
    ({"max_len": 10**6}, "max_len must be at most 100,000, got 1000000)"),
    ({"vocab_size": 10**7}, "vocab_size must be at most 1,000,000, got 10000000)"),
])
def test_configuration_sizes_have_upper_bounds(run_copy, changes, why):
    meta = json.loads((run_copy / "config.json").read_text())
    meta["config"].update(changes)
    (run_copy / "config.json").write_text(json.dumps(meta))
    result = invoke("predict", "--model", run_copy, "great")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    if why.endswith("49,176,625 weights"):  # just within the bound: the vocabulary disagrees
        assert TrainConfig(**changes, units=6).parameters == 49_176_625
        assert result.output == (f"Error: {run_copy}: vocab.txt has 28 entries but config.json "
                                 f"says vocab_size 12000\n")
    else:
        assert result.output.startswith(f"Error: {run_copy}: config.json is invalid ({why}")
        assert result.output.count("\n") == 1


@pytest.mark.parametrize("settings, count", [
    ({"vocab_size": 1000, "embed_dim": 4096, "units": 4096}, 37_658_625),
    ({"vocab_size": 1_000_000, "embed_dim": 49}, 49_002_657),
    ({"vocab_size": 1_000_000, "embed_dim": 50}, 50_002_689),
    ({"vocab_size": 3000, "embed_dim": 4096, "units": 4096}, 45_850_625),
    ({"vocab_size": 4000, "embed_dim": 4096, "units": 4096}, 49_946_625),
    ({"vocab_size": 5000, "embed_dim": 4096, "units": 4096}, 54_042_625),
])
def test_the_weight_count_is_bounded(settings, count):
    if count <= 50_000_000:
        assert TrainConfig(**settings).parameters == count
    else:
        with pytest.raises(ConfigError, match=f"the model would have {count:,} weights"):
            TrainConfig(**settings)


@pytest.mark.parametrize("args, message", [
    (["--vocab-size", "200000", "--embed-dim", "4096"], "Error: the model would have "
                                                         "819,332,161 weights"),
    (["--vocab-size", "20000", "--embed-dim", "4096"], "Error: the model would have "
                                                        "82,052,161 weights"),
])
def test_training_refuses_a_model_beyond_the_bound_before_reading_data(tmp_path, monkeypatch,
                                                                        args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()  # no data: a check after reading it would fail differently
    result = invoke("train", *args, "--data-dir", tmp_path / "empty")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.startswith(message) and result.output.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["empty"]


@pytest.mark.parametrize("name, size, limit", [
    ("config.json", 5 << 20, 1 << 20),
    ("state.json", 40 << 20, 16 << 20),
    ("vocab.txt", 100 << 20, 64 << 20),
    ("weights.npz", 60 << 20, 8 * 321 + (16 << 20)),  # 321 weights, at most 8 bytes each
    ("model.keras", 60 << 20, 32 * 321 + (16 << 20)),
])
def test_oversized_run_files_are_refused_unread(run_copy, name, size, limit):
    path = run_copy / name
    with open(path, "r+b") as f:
        f.truncate(size)  # sparse: a large size, and nothing to read in time if it were read
    backend = ["--backend", "keras"] if name == "model.keras" else []
    one_line_error(invoke("predict", "--model", run_copy, *backend, "great"),
                   f"{run_copy}: {name} is too large ({size:,} bytes; at most {limit:,} are read)")


# --- 2. never silently unverified; seal -----------------------------------------------------------

def _no_state(run):
    (run / "state.json").unlink()
    return NO_STATE


def _no_sha256(run):
    state = json.loads((run / "state.json").read_text())
    state["sha256"] = {}
    (run / "state.json").write_text(json.dumps(state))
    return "state.json records no sha256 for it"


@pytest.mark.parametrize("unrecord", [_no_state, _no_sha256])
@pytest.mark.parametrize("args", [["predict", "great"], ["inspect", "--check", "0"],
                                  ["inspect", "great"], ["evaluate", "--data", "{data}"]])
def test_a_model_file_without_a_recorded_sha256_is_refused(run_copy, tmp_path, unrecord, args):
    why = unrecord(run_copy)
    data = tmp_path / "d.tsv"
    data.write_text("1\tgreat\n0\tawful\n")
    result = invoke(args[0], "--model", run_copy, *[a.format(data=data) for a in args[1:]])
    one_line_error(result, UNVERIFIED.format(run=run_copy, name="weights.npz", why=why))
    with pytest.raises(RunFolderError, match="weights.npz is unverified"):
        sr.load(run_copy)


def test_the_keras_backend_refuses_an_unrecorded_model_keras(run_copy):
    (run_copy / "state.json").unlink()
    one_line_error(invoke("predict", "--model", run_copy, "--backend", "keras", "great"),
                   UNVERIFIED.format(run=run_copy, name="model.keras", why=NO_STATE))


def _edit(run):
    arrays = weights(run)
    arrays["b_y"] = arrays["b_y"] + np.float32(20)  # every probability moves up
    np.savez(run / "weights.npz", **arrays)


def _probability(result):
    return json.loads(result.stdout)["probability"]


@pytest.mark.parametrize("delete_state", [True, False])
def test_an_edit_is_refused_until_the_run_is_sealed(run_copy, delete_state):
    before = _probability(invoke("predict", "--model", run_copy, "--json", "awful"))
    state = json.loads((run_copy / "state.json").read_text())
    _edit(run_copy)
    if delete_state:
        (run_copy / "state.json").unlink()
    refused = invoke("predict", "--model", run_copy, "--json", "awful")
    assert refused.exit_code == 1 and "sentiment-rnn seal " + str(run_copy) in refused.output
    result = invoke("seal", run_copy)
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256((run_copy / "weights.npz").read_bytes()).hexdigest()
    assert f"weights.npz  sha256 {digest}" in result.stdout
    assert result.stderr == ("Note: weights.npz and model.keras hold different weights: the "
                             "numpy and keras backends will give different probabilities\n")
    after = _probability(invoke("predict", "--model", run_copy, "--json", "awful"))
    assert before < 0.5 < after  # the edited weights, now trusted
    sealed = json.loads((run_copy / "state.json").read_text())
    assert sealed["sha256"]["weights.npz"] == digest
    if not delete_state:  # the rest of state.json is kept: --resume still knows the run
        assert {k: v for k, v in sealed.items() if k != "sha256"} == \
            {k: v for k, v in state.items() if k not in ("sha256", "pending")}


def _nan(run):
    arrays = weights(run)
    arrays["W_hh"][0, 0] = np.nan
    np.savez(run / "weights.npz", **arrays)
    return "weights.npz is unusable (weight W_hh holds NaN or infinity)"


def _text(run):
    (run / "weights.npz").write_text("not weights\n")
    return "weights.npz is not a usable .npz file (no zip directory at its end: truncated, or " \
           "not a zip archive)"


def _shape(run):
    arrays = weights(run)
    arrays["W_xh"] = np.zeros((8, 7), np.float32)
    np.savez(run / "weights.npz", **arrays)
    return "weights.npz does not match config.json (weight W_xh has shape (8, 7), expected (8, 6))"


def _keras(run):
    blob = (run / "model.keras").read_bytes()
    (run / "model.keras").write_bytes(blob[: len(blob) // 2])
    return "model.keras cannot be loaded"


@pytest.mark.parametrize("damage", [_nan, _text, _shape, _keras])
@pytest.mark.parametrize("delete_state", [True, False])
def test_seal_refuses_files_that_do_not_load(run_copy, damage, delete_state):
    message = damage(run_copy)
    if delete_state:
        (run_copy / "state.json").unlink()
    state = (run_copy / "state.json").read_bytes() if not delete_state else None
    result = invoke("seal", run_copy)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.startswith(f"Error: {run_copy}: {message}") and \
        result.output.count("\n") == 1
    if delete_state:
        assert not (run_copy / "state.json").exists()
    else:
        assert (run_copy / "state.json").read_bytes() == state


def test_the_api_seals_too_and_an_unchanged_run_has_nothing_to_note(run_copy):
    (run_copy / "state.json").unlink()
    sealed = sr.seal(run_copy)
    assert sealed.notes == [] and sorted(sealed.sha256) == ["config.json", "model.keras",
                                                            "vocab.txt", "weights.npz"]
    assert sr.load(run_copy).predict("great") > 0.5


def test_seal_needs_a_model_file_and_a_free_run(run_copy):
    (run_copy / "weights.npz").unlink()
    (run_copy / "model.keras").unlink()
    one_line_error(invoke("seal", run_copy), f"{run_copy}: has neither weights.npz nor "
                                             f"model.keras; nothing to seal")
    one_line_error(invoke("seal", run_copy / "nowhere"), f"{run_copy / 'nowhere'}: no such run "
                                                         f"folder")


# --- 3. a weights.npz that is not an npz ---------------------------------------------------------

def _zip_without_npy():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "hello")
    return out.getvalue()


def _npy_alone():
    out = io.BytesIO()
    np.save(out, np.zeros(3))
    return out.getvalue()


NOT_A_ZIP = "not a usable .npz file (no zip directory at its end: truncated, or not a zip archive)"


@pytest.mark.parametrize("content, why", [
    (lambda real: b"", "not a usable .npz file (the file is empty)"),
    (lambda real: b"embedding,W_xh\n1,2\n", NOT_A_ZIP),
    (lambda real: pickle.dumps({"embedding": [1.0]}), NOT_A_ZIP),
    (lambda real: real[: len(real) // 2], NOT_A_ZIP),  # truncated
    (lambda real: real[:-30], NOT_A_ZIP),
    (lambda real: _npy_alone(), NOT_A_ZIP),  # np.save, not np.savez
    (lambda real: _zip_without_npy(), "not a usable .npz file (a zip archive with no .npy array "
                                      "in it)"),
])
def test_a_weights_file_that_is_not_an_npz_is_named(run_copy, content, why):
    real = (run_copy / "weights.npz").read_bytes()
    (run_copy / "weights.npz").write_bytes(content(real))
    record(run_copy)
    result = invoke("predict", "--model", run_copy, "--backend", "numpy", "great")
    one_line_error(result, f"{run_copy}: weights.npz is {why}")
    assert "pickle" not in result.output


def test_an_npy_member_that_is_not_npy_is_named(run_copy):
    write_npz(run_copy / "weights.npz", good_members(run_copy, b_h=pickle.dumps([0.0] * 6)))
    record(run_copy)
    result = invoke("predict", "--model", run_copy, "great")
    assert result.output.startswith(f"Error: {run_copy}: weights.npz is not a usable .npz file "
                                    f"(b_h.npy is not an .npy array (")
    assert result.output.count("\n") == 1 and "pickle" not in result.output


@pytest.mark.parametrize("make, why", [
    (lambda p: p.mkdir(), "is not a regular file"),
    (lambda p: os.mkfifo(p), "is not a regular file"),
    (lambda p: p.symlink_to(p), "cannot be read (Too many levels of symbolic links)"),
    (lambda p: p.symlink_to(p.parent / "nowhere.npz"), "is missing"),
])
def test_a_weights_file_that_is_not_a_file_is_named(run_copy, make, why):
    (run_copy / "weights.npz").unlink()
    make(run_copy / "weights.npz")
    out = subprocess.run([sys.executable, "-m", "sentiment_rnn", "predict", "--model",
                          str(run_copy), "--backend", "numpy", "great"],
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (1, "")
    assert out.stderr == f"Error: {run_copy}: weights.npz {why}\n"


# --- 4. models/latest that leads nowhere -----------------------------------------------------------

def _loop(models):
    (models / "latest").symlink_to("latest")
    return "models/latest: is a symlink loop"


def _loop_of_two(models):
    (models / "a").symlink_to("latest")
    (models / "latest").symlink_to("a")
    return "models/latest: is a symlink loop"


def _dangling(models):
    (models / "latest").symlink_to("gone")
    return "models/latest: points at gone, which does not exist"


def _a_file(models):
    (models / "notes.txt").write_text("x")
    (models / "latest").symlink_to("notes.txt")
    return "models/latest: points at notes.txt, which is not a run folder"


FIX = "; train a model (which points it at the new run), or pass --model RUN_DIR"


@pytest.mark.parametrize("setup", [_loop, _loop_of_two, _dangling, _a_file])
@pytest.mark.parametrize("args", [["predict", "great"], ["evaluate", "--data", "d.tsv"],
                                  ["inspect", "great"], ["inspect", "--check", "0"]])
def test_a_broken_models_latest_is_named(tmp_path, monkeypatch, setup, args):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "d.tsv").write_text("1\tgreat\n")
    message = setup(tmp_path / "models")
    one_line_error(invoke(*args), message + FIX)
    with pytest.raises(RunFolderError, match=message.split(":")[1].strip()):
        sr.load()


@pytest.mark.parametrize("setup", [_loop, _a_file])
def test_serve_names_a_broken_models_latest(tmp_path, setup):
    (tmp_path / "models").mkdir()
    message = setup(tmp_path / "models")
    out = subprocess.run([sys.executable, "-m", "sentiment_rnn", "serve", "--port", "0"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stderr) == (1, f"Error: {message}{FIX}\n")


def test_train_repoints_a_looping_latest_and_refuses_a_looping_models(tmp_path, monkeypatch,
                                                                      tiny_data_dir):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    _loop_of_two(tmp_path / "models")
    result = invoke("train", *TINY_TRAIN_ARGS, "--epochs", "1", "--run-dir", "models/r",
                    "--data-dir", tiny_data_dir)
    assert result.exit_code == 0, result.output
    assert os.readlink(tmp_path / "models" / "latest") == "r"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    os.symlink("models", "models")
    result = invoke("train", *TINY_TRAIN_ARGS, "--data-dir", tiny_data_dir)  # models/<time>
    one_line_error(result, "models: is a dangling symlink or a symlink loop; runs are saved in "
                           "models/")
    assert sorted(os.listdir(".")) == ["models"]


# --- 5. every dtype: read exactly, or refused, never a stray warning --------------------------------

@pytest.mark.parametrize("dtype", ["<f2", ">f2", "<f4", ">f4", "<f8", ">f8"])
def test_float_weights_are_read_exactly_without_a_warning(run_copy, dtype):
    arrays = {n: a.astype(dtype) for n, a in weights(run_copy).items()}
    arrays["W_hh"][0, 0] = 60000  # near float16's largest: compared with 1e6 in float16 it overflows
    np.savez(run_copy / "weights.npz", **arrays)
    record(run_copy)
    expected = NumpyRNN(**{n: arrays[n].astype(np.float64) for n in NAMES})
    ids = Predictor(run_copy).ids(["great fun", "awful"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = Predictor(run_copy).model
        result = invoke("predict", "--model", run_copy, "great")
    assert result.exit_code == 0, result.output
    for name in NAMES:
        assert getattr(got, name).dtype == np.float64
        np.testing.assert_array_equal(getattr(got, name), expected.__dict__[name])
    np.testing.assert_array_equal(got.predict_proba(ids), expected.predict_proba(ids))


@pytest.mark.parametrize("dtype, shown", [
    ("<i4", "int32"), ("<i8", "int64"), ("|u1", "uint8"), ("|b1", "bool"),
    ("<c8", "complex64"), ("<c16", "complex128"), ("<m8[s]", "timedelta64[s]"),
])
def test_other_dtypes_are_refused_in_one_line_without_a_warning(run_copy, dtype, shown):
    arrays = weights(run_copy)
    arrays["b_h"] = np.ones(6, dtype=dtype)
    np.savez(run_copy / "weights.npz", **arrays)
    record(run_copy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = invoke("predict", "--model", run_copy, "great")
    one_line_error(result, f"{run_copy}: weights.npz is unusable (weight b_h holds {shown}, not "
                           f"floating-point numbers)")


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8, reason="long double is float64 here")
def test_long_double_weights_are_refused_without_a_warning(run_copy):
    arrays = weights(run_copy)
    arrays["W_hh"] = arrays["W_hh"].astype(np.longdouble)
    arrays["W_hh"][0, 0] = np.longdouble("1e4000")  # beyond float64: a cast would overflow
    np.savez(run_copy / "weights.npz", **arrays)
    record(run_copy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = invoke("predict", "--model", run_copy, "great")
    one_line_error(result, f"{run_copy}: weights.npz is unusable (weight W_hh holds "
                           f"{np.dtype(np.longdouble).name}; only float16, float32, float64 are "
                           f"read)")


# --- 3. config.json and vocab.txt are sealed too ----------------------------------------------------

DAMAGED = ("{run}: {name} is damaged (its sha256 differs from the one recorded in state.json); "
           "if you changed it on purpose, seal the run: sentiment-rnn seal {run}")


def _config(run, edit):
    meta = json.loads((run / "config.json").read_text())
    edit(meta)
    (run / "config.json").write_text(json.dumps(meta, indent=2))
    return "config.json"


def _swap_vocab(run):
    """`great` swapped with the next word, and config.json's vocabulary sha256 made to match."""
    words = (run / "vocab.txt").read_text().split("\n")
    i = words.index("great")
    words[i], words[i + 1] = words[i + 1], words[i]
    (run / "vocab.txt").write_text("\n".join(words))
    digest = hashlib.sha256((run / "vocab.txt").read_bytes()).hexdigest()
    _config(run, lambda m: m["vocab"].update(sha256=digest))
    return "config.json"  # the first file checked that differs


SETTING_EDITS = {
    "max_len": lambda r: _config(r, lambda m: m["config"].update(max_len=1)),
    "drop_oov": lambda r: _config(r, lambda m: m["config"].update(
        drop_oov=not m["config"]["drop_oov"])),
    "seed": lambda r: _config(r, lambda m: m["config"].update(seed=8)),
    "versions": lambda r: _config(r, lambda m: m.update(versions={})),
    "whitespace": lambda r: ((r / "config.json").write_text(
        (r / "config.json").read_text() + "\n"), "config.json")[1],
    "vocab swap": _swap_vocab,
}


@pytest.mark.parametrize("edit", SETTING_EDITS.values(), ids=SETTING_EDITS)
def test_an_edited_config_or_vocab_is_damaged_until_sealed(run_copy, edit):
    before = _probability(invoke("predict", "--model", run_copy, "--json", "great film"))
    name = edit(run_copy)
    message = DAMAGED.format(run=run_copy, name=name)
    for args in (["predict", "great film"], ["inspect", "--check", "0"],
                 ["predict", "--backend", "keras", "great film"]):
        one_line_error(invoke(args[0], "--model", run_copy, *args[1:]), message)
    with pytest.raises(RunFolderError) as caught:
        sr.load(run_copy)
    assert str(caught.value) == message
    sealed = invoke("seal", run_copy)
    assert sealed.exit_code == 0, sealed.output
    digest = hashlib.sha256((run_copy / name).read_bytes()).hexdigest()
    assert f"{name}  sha256 {digest}" in sealed.stdout
    assert json.loads((run_copy / "state.json").read_text())["settings_sha256"][name] == digest
    after = _probability(invoke("predict", "--model", run_copy, "--json", "great film"))
    assert 0 < after < 1
    if "max_len" in str(edit) or edit is _swap_vocab:
        assert after != before


def test_an_edited_vocab_alone_is_damaged(run_copy):
    """vocab.txt without its trailing newline: the same words, so config.json still agrees."""
    (run_copy / "vocab.txt").write_bytes((run_copy / "vocab.txt").read_bytes()[:-1])
    message = DAMAGED.format(run=run_copy, name="vocab.txt")
    one_line_error(invoke("predict", "--model", run_copy, "great"), message)
    assert sr.seal(run_copy).sha256["vocab.txt"] == \
        hashlib.sha256((run_copy / "vocab.txt").read_bytes()).hexdigest()
    assert 0 < sr.load(run_copy).predict("great") < 1


def test_training_records_config_and_vocab(run_copy):
    state = json.loads((run_copy / "state.json").read_text())
    assert state["settings_sha256"] == {
        name: hashlib.sha256((run_copy / name).read_bytes()).hexdigest()
        for name in ("config.json", "vocab.txt")}


def _extra_word(run):
    with open(run / "vocab.txt", "a") as f:
        f.write("extra\n")
    return "vocab.txt has 29 entries but config.json says vocab_size 28"


@pytest.mark.parametrize("damage", [
    lambda r: _config(r, lambda m: m["config"].update(max_len=-5)) and
    "config.json is invalid (max_len must be a whole number >= 1, got -5)",
    lambda r: _config(r, lambda m: m["vocab"].update(sha256="0" * 64)) and
    "vocab.txt does not match the sha256 in config.json (was it edited?)",
    _extra_word])
def test_seal_refuses_a_config_or_vocab_that_does_not_load(run_copy, damage):
    state = (run_copy / "state.json").read_bytes()
    message = f"{run_copy}: {damage(run_copy)}"
    one_line_error(invoke("seal", run_copy), message)
    assert (run_copy / "state.json").read_bytes() == state


def _duplicate_max_len(meta):
    return json.dumps(meta).replace('"max_len": 12', '"max_len": 12, "max_len": 1', 1)


@pytest.mark.parametrize("write, key", [
    (_duplicate_max_len, '"max_len"'),
    (lambda meta: '{"versions": {}, ' + json.dumps(meta)[1:], '"versions"'),
])
def test_a_duplicate_key_in_config_json_is_refused(run_copy, write, key):
    meta = json.loads((run_copy / "config.json").read_text())
    text = write(meta)
    assert text.count(key) == 2
    (run_copy / "config.json").write_text(text)
    message = f"{run_copy}: config.json is not valid JSON (the key {key} is given twice)"
    one_line_error(invoke("predict", "--model", run_copy, "great"), message)
    one_line_error(invoke("seal", run_copy), message)


@pytest.mark.parametrize("key", ["epoch", "sha256"])
def test_a_duplicate_key_in_state_json_is_refused(run_copy, key):
    text = (run_copy / "state.json").read_text()
    value = json.dumps(json.loads(text)[key])
    (run_copy / "state.json").write_text("{" + f'"{key}": {value}, ' + text.lstrip()[1:])
    one_line_error(invoke("predict", "--model", run_copy, "great"),
                   f"{run_copy}: state.json is not valid JSON (the key \"{key}\" is given twice)")


@pytest.mark.parametrize("lines", [29, 3_000_000])
def test_a_vocab_of_too_many_lines_is_refused_in_bounded_memory(run_copy, lines):
    words = "".join(f"w{i}\n" for i in range(lines)).encode()
    (run_copy / "vocab.txt").write_bytes(words)
    tracemalloc.start()
    try:
        with pytest.raises(RunFolderError) as caught:
            sr.load(run_copy)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value) == (f"{run_copy}: vocab.txt has {lines} entries but config.json "
                                 f"says vocab_size 28")
    assert peak < 4 << 20 < len(words) or lines < 100


def test_a_run_without_settings_sha256_still_loads(run_copy):
    """A run written by 0.3.0 or earlier records only the model files: it loads as before."""
    state = json.loads((run_copy / "state.json").read_text())
    del state["settings_sha256"]
    (run_copy / "state.json").write_text(json.dumps(state))
    _config(run_copy, lambda m: m.update(versions={}))  # not recorded, so not checked
    assert 0 < _probability(invoke("predict", "--model", run_copy, "--json", "great")) < 1
    assert sr.load(run_copy).predict("great") > 0
    sr.seal(run_copy)  # now recorded
    assert "settings_sha256" in json.loads((run_copy / "state.json").read_text())
