"""The command line generated from zoo.config: one flag per setting, layered defaults, one-line errors."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from zoo.cli import train
from zoo.cli.flags import SettingsParser, flag
from zoo.config import ClassifierConfig, DataConfig, RunConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _parse(argv, defaults=None):
    return train.parser(defaults).parse(argv)


def test_every_setting_has_a_flag_with_its_help():
    help_text = train.parser().build({}).format_help()
    for cls in (ClassifierConfig, DataConfig, RunConfig):
        for f in dataclasses.fields(cls):
            assert flag(f.name) in help_text, f.name
    assert "--init" in help_text and "lm:ARTIFACT" in help_text
    assert "{last,max,mean,attention,concat}" in help_text  # choices from zoo.config.POOLINGS


def test_values_are_layered_defaults_recipe_config_file_flags(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"epochs": 4, "units": 32, "dataset": "sms_spam"}))
    configs = _parse(["--config", str(path), "--units", "16", "--no-baseline"], defaults={"epochs": 2, "units": 8})
    settings = configs[ClassifierConfig]
    assert (settings.epochs, settings.units) == (4, 16)  # the file wins over the recipe, the flag over the file
    assert configs[RunConfig].baseline is False and configs[DataConfig].dataset == "sms_spam"
    assert settings.learning_rate is None  # untouched: the per-init default
    assert _parse(["--sequence-length", "p95"])[ClassifierConfig].sequence_length == "p95"
    assert _parse(["--sequence-length", "128"])[ClassifierConfig].sequence_length == 128
    assert _parse(["--max-train-examples", "none"])[DataConfig].max_train_examples is None
    assert _parse(["--verbose", "0"])[ClassifierConfig].verbose == 0


@pytest.mark.parametrize("argv, expected", [
    (["--epochs", "0"], "error: --epochs must be an integer >= 1 or None, got 0"),
    (["--epochs", "ten"], "error: --epochs must be an integer >= 1 or None, got 'ten'"),
    (["--learning-rate", "-1"], "error: --learning-rate must be a number > 0 or None, got -1.0"),
    (["--pooling", "median"], "error: --pooling must be one of"),
    (["--init", "glove-6b-50d", "--probe"], "error: --probe needs init='lm:ARTIFACT'"),
    (["--train", "a.csv"], "error: --train and --test go together"),
])
def test_a_bad_value_is_one_line_naming_the_flag(argv, expected, capsys):
    with pytest.raises(SystemExit) as info:
        _parse(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(expected), err


def test_a_bad_config_file_names_the_file(tmp_path, capsys):
    path = tmp_path / "best.json"
    for content, expected in ((json.dumps({"epochs": "ten"}), f"error: {path}: `epochs` must be an integer >= 1"),
                              (json.dumps({"epoch": 3}), f"error: {path}: unknown setting(s) epoch"),
                              ("{", f"error: {path}:1: not valid JSON")):
        path.write_text(content)
        with pytest.raises(SystemExit):
            _parse(["--config", str(path)])
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(expected), err


def test_recipe_defaults_must_be_settings():
    with pytest.raises(ValueError, match="unknown settings"):
        SettingsParser("x", "x", [("run", RunConfig)], defaults={"vectors": "none"})


@pytest.mark.slow
def test_zoo_command_dispatch_and_dry_run(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

    def zoo(*args):
        return subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)

    listing = zoo("--help")
    assert listing.returncode == 0 and all(c in listing.stdout for c in ("train", "predict", "pretrain-lm", "tune",
                                                                          "report"))
    assert zoo("bogus").returncode == 2
    dry = zoo("train", "--dataset", "sms_spam", "--epochs", "3", "--dry-run")
    assert dry.returncode == 0 and "epochs=3" in dry.stdout and not os.listdir(tmp_path)
    for command in ("train", "tune", "pretrain-lm", "predict", "report"):
        assert zoo(command, "--help").returncode == 0, command


def test_a_recipes_dataset_gives_way_to_the_users_files(tmp_path, capsys):
    recipe = {"dataset": "debtags", "multi_label": True}
    assert _parse([], defaults=recipe)[DataConfig].dataset == "debtags"
    data = _parse(["--train", "a.csv", "--test", "b.csv"], defaults=recipe)[DataConfig]
    assert (data.dataset, data.train) == (None, "a.csv")
    (tmp_path / "files.json").write_text(json.dumps({"train": "a.csv", "test": "b.csv"}))
    assert _parse(["--config", str(tmp_path / "files.json")], defaults=recipe)[DataConfig].dataset is None
    with pytest.raises(SystemExit):  # given by the user both ways, it is still refused
        _parse(["--dataset", "debtags", "--train", "a.csv", "--test", "b.csv"], defaults=recipe)
    assert "give --dataset or --train/--test, not both" in capsys.readouterr().err
