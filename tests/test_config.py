"""zoo.config: the one place of defaults and checks, and what the rest of zoo reads from it."""

import dataclasses
import json

import pytest

from zoo import config as zc
from zoo.errors import ConfigError


@pytest.mark.parametrize("cls, values, message", [
    (zc.ClassifierConfig, {"epochs": 0}, "`epochs` must be an integer >= 1 or None, got 0"),
    (zc.ClassifierConfig, {"epochs": "ten"}, "`epochs` must be an integer >= 1 or None, got 'ten'"),
    (zc.ClassifierConfig, {"epochs": True}, "`epochs` must be an integer >= 1 or None, got True"),
    (zc.ClassifierConfig, {"learning_rate": -1.0}, "`learning_rate` must be a number > 0 or None, got -1.0"),
    (zc.ClassifierConfig, {"learning_rate": float("nan")}, "`learning_rate` must be a number > 0"),
    (zc.ClassifierConfig, {"batch_size": 0}, "`batch_size` must be an integer >= 1, got 0"),
    (zc.ClassifierConfig, {"max_tokens": 0}, "`max_tokens` must be an integer >= 3 or None, got 0"),
    (zc.ClassifierConfig, {"clipnorm": -1.0}, "`clipnorm` must be a number >= 0 or None, got -1.0"),
    (zc.ClassifierConfig, {"patience": -1}, "`patience` must be an integer >= 0, got -1"),
    (zc.ClassifierConfig, {"init": "none", "embedding_dim": 0}, "`embedding_dim` must be an integer >= 1"),
    (zc.ClassifierConfig, {"pooling": "median"}, "`pooling` must be one of 'last', 'max', 'mean'"),
    (zc.ClassifierConfig, {"optimizer": "lbfgs"}, "`optimizer` must be one of 'adam', 'adamw', 'gd', 'sgd'"),
    (zc.ClassifierConfig, {"optimizer": "sgd", "momentum": 1.0}, "`momentum` must be a number in [0, 1) or None"),
    (zc.ClassifierConfig, {"momentum": 0.5}, "`momentum` is a setting of optimizer='sgd', got optimizer='adam'"),
    (zc.ClassifierConfig, {"optimizer": "gd", "nesterov": True}, "(gd is plain gradient descent: sgd with"),
    (zc.ClassifierConfig, {"strategy": "gpu"}, "`strategy` must be one of 'auto', 'default'"),
    (zc.ClassifierConfig, {"sequence_length": "q9"}, "`sequence_length` must be an integer >= 1 or 'pNN'"),
    (zc.ClassifierConfig, {"sequence_length": 0}, "`sequence_length` must be an integer >= 1 or 'pNN'"),
    (zc.ClassifierConfig, {"validation_split": 1.0}, "`validation_split` must be a number in [0, 1), got 1.0"),
    (zc.ClassifierConfig, {"init": "lm:"}, "`init` must be word vectors"),
    (zc.ClassifierConfig, {"probe": True}, "`probe` needs init='lm:ARTIFACT'"),
    (zc.ClassifierConfig, {"embedding_dim": 50}, "`embedding_dim` is for init='none'"),
    (zc.ClassifierConfig, {"init": "lm:x", "model": "gru"}, "`model` with init='lm:x' is the language model's"),
    (zc.ModelConfig, {"task": "regression", "multi_label": True}, "`multi_label=True` needs task='classification'"),
    (zc.LanguageModelConfig, {"embedding_dim": 8, "units": 16}, "`tie_weights=True` needs units == embedding_dim"),
    (zc.DataConfig, {"dataset": "sms_spam", "train": "a.csv", "test": "b.csv"}, "give `dataset` or `train`/`test`"),
    (zc.DataConfig, {"train": "a.csv"}, "`train` and `test` go together"),
    (zc.DataConfig, {"labels": 0}, "`labels` must be an integer >= 1 or None, got 0"),
    (zc.TuneConfig, {"tuner": "genetic"}, "`tuner` must be one of 'random', 'grid', 'bayesian', 'hyperband'"),
])
def test_bad_values_name_the_setting(cls, values, message):
    with pytest.raises(ConfigError) as info:
        cls(**values)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert info.value.parameter in values or info.value.parameter in cls.names()
    assert isinstance(info.value, ValueError)


def test_cli_form_of_an_error_names_the_flag():
    with pytest.raises(ConfigError) as info:
        zc.ClassifierConfig(lm_batch_size=0)
    assert info.value.for_cli() == "--lm-batch-size must be an integer >= 1, got 0"


def test_from_dict_refuses_unknown_settings_and_names_the_file():
    with pytest.raises(ConfigError, match=r"best.json: unknown setting\(s\) 'epoch'; known: model, units"):
        zc.ClassifierConfig.from_dict({"epoch": 3}, source="best.json")
    with pytest.raises(ConfigError, match=r"^best.json: `epochs` must be an integer >= 1 or None, got 'ten'$"):
        zc.ClassifierConfig.from_dict({"epochs": "ten"}, source="best.json")


def test_read_config_file(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"epochs": 3}))
    assert zc.read_config_file(good) == {"epochs": 3}
    good.write_text(json.dumps({"epochs": 3}), encoding="utf-8-sig")  # a byte-order mark (Windows editors)
    assert zc.read_config_file(good) == {"epochs": 3}
    (tmp_path / "broken.json").write_text('{"epochs": 3,\n}')
    with pytest.raises(ConfigError, match=r"broken.json:2: not valid JSON"):
        zc.read_config_file(tmp_path / "broken.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="list.json: expected a JSON object of settings, got list"):
        zc.read_config_file(tmp_path / "list.json")
    (tmp_path / "twice.json").write_text('{"epochs": 3, "dropout": 0.2, "epochs": 30}')
    with pytest.raises(ConfigError, match=r"twice.json: the setting 'epochs' is given twice \(3 and 30\); expected "
                                          "each name once$"):
        zc.read_config_file(tmp_path / "twice.json")
    with pytest.raises(ConfigError, match=r"^`space`: the setting 'units' is given twice"):
        zc.read_search_space('{"units": [32], "units": [64]}')


def test_init_defaults_resolve_by_init():
    vectors = zc.resolve_init_defaults(zc.ClassifierConfig())
    assert (vectors.learning_rate, vectors.sequence_length, vectors.lr_schedule, vectors.early_stopping) == \
        (4e-3, "p90", "cosine", True)
    assert vectors.units is None and vectors.pooling is None  # the model's own defaults
    lm = zc.resolve_init_defaults(zc.ClassifierConfig(init="lm:wiki-books-lstm-lm-v2"))
    assert (lm.learning_rate, lm.sequence_length, lm.lr_schedule, lm.early_stopping, lm.pooling) == \
        (2e-2, 256, "stlr", False, "concat")
    given = zc.resolve_init_defaults(zc.ClassifierConfig(init="lm:x", learning_rate=1e-3, pooling="mean"))
    assert (given.learning_rate, given.pooling) == (1e-3, "mean")  # a value given is kept
    names = set(zc.ClassifierConfig.names())
    for table in zc.INIT_DEFAULTS.values():
        assert set(table) <= names
        zc.ClassifierConfig(**{k: v for k, v in table.items()})  # every default passes its own check


def test_every_classifier_setting_has_a_group_and_the_help_shows_them_by_group():
    from zoo.cli.train import settings_groups

    fields = dataclasses.fields(zc.ClassifierConfig)
    assert all(f.metadata.get("group") in zc.CLASSIFIER_GROUPS for f in fields)
    groups = {title: names for title, _, names in settings_groups()}
    assert "hybrid" in groups["the n-gram path (hybrid)"] and "auto_budget" in groups["init auto"]
    assert sorted(n for names in groups.values() for n in names) == sorted(f.name for f in fields)


def test_per_init_fields_default_to_none():
    per_init = set().union(*zc.INIT_DEFAULTS.values())
    defaults = zc.ClassifierConfig()
    assert all(getattr(defaults, name) is None for name in per_init)


def test_factories_read_their_defaults_from_the_model_config():
    from zoo.models import factories

    assert {k: v for k, v in factories.DEFAULTS.items() if k != "embeddings"} == \
        dataclasses.asdict(zc.ModelConfig())


def test_choice_lists_are_the_librarys_own():
    from zoo.models.registry import list_models
    from zoo.training.optimizers import OPTIMIZERS

    fields = {f.name: f.metadata["check"] for f in dataclasses.fields(zc.ClassifierConfig)}
    assert fields["model"].choices() == list_models()
    assert fields["optimizer"].choices() == list(OPTIMIZERS)
    assert fields["pooling"].choices() == list(zc.POOLINGS)
    assert fields["lr_schedule"].choices() == list(zc.LR_SCHEDULES)


def test_pretrain_defaults_are_the_language_models():
    lm, pretrain = zc.LanguageModelConfig(), zc.PretrainConfig()
    for name in ("embedding_dim", "num_layers", "input_dropout", "hidden_dropout", "output_dropout",
                 "weight_dropout", "embedding_row_dropout", "num_sampled"):
        assert getattr(pretrain, name) == getattr(lm, name), name


def test_the_committed_language_model_was_trained_with_these_defaults():
    """PretrainConfig's defaults are wiki-books-lstm-lm-v2's recorded settings (so `zoo pretrain-lm` remakes it)."""
    from zoo.transfer.pretrained import pretrained_dir

    settings = json.loads((pretrained_dir() / "wiki-books-lstm-lm-v2" / "metadata.json").read_text())["settings"]
    defaults = zc.PretrainConfig().to_dict()
    assert {k: defaults[k] for k in settings} == settings


def test_momentum_and_nesterov_reach_the_optimizer_of_every_training_path():
    import tensorflow as tf

    from zoo.training.fit_steps import FitSteps
    from zoo.training.optimizers import make_optimizer

    settings = zc.resolve_init_defaults(zc.ClassifierConfig(optimizer="sgd", momentum=0.5, nesterov=False))
    options = FitSteps(settings, tf.distribute.get_strategy(), [0, 1], [], [], [], []).run_options(None, None)
    assert options["optimizer"] == "sgd" and options["optimizer_options"] == {"momentum": 0.5, "nesterov": False}
    opt = make_optimizer(options["optimizer"], 0.1, **options["optimizer_options"])
    assert (opt.momentum, opt.nesterov) == (0.5, False)
    plain = make_optimizer("gd", 0.1)
    assert (plain.momentum, plain.nesterov) == (0.0, False)
    default = FitSteps(zc.resolve_init_defaults(zc.ClassifierConfig()), tf.distribute.get_strategy(), [0, 1], [], [], [],
                   []).run_options(None, None)
    assert default["optimizer_options"] == {}  # sgd's own defaults (0.9, Nesterov) come from the optimizer table


def test_a_seed_outside_what_random_states_take_is_refused_where_settings_are_checked():
    for config in (zc.ClassifierConfig, zc.PretrainConfig):
        assert config.from_dict({"seed": 2 ** 32 - 1}).seed == 2 ** 32 - 1
        with pytest.raises(ConfigError, match=r"`seed` must be an integer in \[0, 4294967295\], got 4294967296"):
            config.from_dict({"seed": 2 ** 32})
