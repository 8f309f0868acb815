"""The command line's help: commands in the order of use, train's options under headings, and
each range of a run's settings the same on the command line as in TrainConfig."""

import math
import re

import click
import pytest
from click.testing import CliRunner

from sentiment_rnn.cli.commands import main
from sentiment_rnn.config import BOUNDS, TrainConfig
from sentiment_rnn.errors import ConfigError

TRAIN_GROUPS = {
    "Data": ["--dataset", "--data-dir", "--data", "--validation-data", "--text-column",
             "--label-column", "--positive", "--negative", "--validation-fraction", "--limit"],
    "Text to ids": ["--vocab-size", "--vocab-method", "--vocab-df-power", "--vocab-unit",
                    "--vocab-keep", "--keep-oov", "--max-len"],
    "Model": ["--cell", "--embed-dim", "--units", "--dropout", "--recurrent-dropout"],
    "Teacher": ["--teacher", "--teacher-sentences", "--labelled-sentences", "--unlabelled"],
    "Optimisation": ["--epochs", "--batch-size", "--length-buckets", "--jit", "--learning-rate",
                     "--clipnorm", "--ema-momentum", "--patience", "--seed"],
    "Run folder": ["--run-dir", "--resume"],
    "Other options": ["-h"],
}


def help_text(*args, width=80):
    result = CliRunner().invoke(main, [*args, "--help"], terminal_width=width)
    assert result.exit_code == 0, result.output
    return result.output


def sections(text: str) -> dict[str, list[str]]:
    """Each heading of a help text (a line `Name:` at the margin) -> the first word of each
    line of its entries."""
    found: dict[str, list[str]] = {}
    heading = None
    for line in text.splitlines():
        if re.fullmatch(r"\S.*:", line):
            heading = line[:-1]
            found[heading] = []
        elif heading and re.match(r"  \S", line):
            found[heading].append(line.split()[0].rstrip(","))
    return found


@pytest.mark.parametrize("width", [80, 50])
def test_commands_are_listed_in_the_order_of_use_with_whole_descriptions(width):
    text = help_text(width=width)
    [(heading, names)] = [(h, n) for h, n in sections(text).items() if h.startswith("Commands")]
    assert names == ["train", "evaluate", "predict", "inspect", "serve", "seal"]
    listing = text[text.index(heading):]
    assert not [line for line in listing.splitlines() if line.rstrip().endswith("...")]
    for name, command in main.commands.items():  # each line is the help's whole first line
        first = command.help.split("\n\n")[0]
        assert " ".join(first.split()) in " ".join(listing.split()), name


def test_train_help_shows_each_option_under_its_heading():
    found = sections(help_text("train"))
    assert found == TRAIN_GROUPS
    listed = [flag for names in found.values() for flag in names]
    expected = [p.opts[0] for p in main.commands["train"].params] + ["-h"]
    assert sorted(listed) == sorted(expected)  # every option once, --x/--y under --x


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_evaluate_and_predict_group_every_option(command):
    found = sections(help_text(command))
    assert "Options" not in found  # none left in one long list (Click's heading) ...
    assert found.get("Other options") == ["-h"]  # ... nor in cloup's list of the ungrouped
    assert len(found) >= 3  # two groups at least, and -h
    listed = [flag for names in found.values() for flag in names]
    expected = [p.opts[0] for p in main.commands[command].params
                if isinstance(p, click.Option)] + ["-h"]
    assert sorted(listed) == sorted(expected)


def range_options() -> list:
    return [pytest.param(p, id=p.opts[0]) for p in main.commands["train"].params
            if p.name in BOUNDS]


def test_every_bounded_setting_has_a_ranged_option():
    assert {p.values[0].name for p in range_options()} == set(BOUNDS)


@pytest.mark.parametrize("option", range_options())
def test_the_option_range_is_the_config_range(option):
    bound, kind = BOUNDS[option.name], option.type
    assert isinstance(kind, click.IntRange if bound.kind is int else click.FloatRange)
    assert (kind.min, kind.max, kind.min_open, kind.max_open) == (
        bound.low, bound.high, bound.low_open, bound.high_open)


def accepted(name: str, value) -> bool:
    try:
        TrainConfig(**{name: value})
    except ConfigError:
        return False
    return True


def option_accepts(option, value) -> bool:
    """Whether the option's own type (what `train --NAME value` goes through) takes the value."""
    try:
        option.type.convert(value, option, None)
    except click.BadParameter:
        return False
    return True


@pytest.mark.parametrize("option", range_options())
def test_the_config_accepts_exactly_what_the_option_accepts(option):
    """Probed at each end of the option's range, on it and a step either side (and, for a
    float, at NaN and infinity), asking both the option's type and TrainConfig."""
    kind, name = option.type, option.name
    ends = [(kind.min, kind.min_open, -1), (kind.max, kind.max_open, 1)]
    probes = []  # (value, whether it is in the range)
    for end, is_open, sign in [e for e in ends if e[0] is not None]:
        step = sign * (1 if isinstance(kind, click.IntRange) else 1e-6 * max(1, abs(end)))
        probes += [(end, not is_open), (end + step, False), (end - step, True)]
    if isinstance(kind, click.FloatRange):
        probes += [(math.nan, False), (math.inf, False), (-math.inf, False)]
    assert len(probes) >= 3, name  # at least one end to probe
    for value, inside in probes:
        assert option_accepts(option, value) is inside, ("option", name, value)
        assert accepted(name, value) is inside, ("config", name, value)


def test_a_config_value_outside_its_bound_is_one_line():
    with pytest.raises(ConfigError, match=r"^seed must be at most 4,294,967,295, got 4294967296$"):
        TrainConfig(seed=2**32)
    with pytest.raises(ConfigError,
                       match=r"^clipnorm must be a number > 0 and at most 1e\+06, got 0$"):
        TrainConfig(clipnorm=0)
