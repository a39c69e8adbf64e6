"""Forecast baselines and metrics (zoo.evaluation.forecast), checked by hand on tiny series."""

import numpy as np
import pytest

from zoo.data.series import windows
from zoo.errors import ConfigError
from zoo.evaluation.forecast import (baseline_forecasts, fit_linear_ar, forecast_metrics, last_value,
                                     metrics_table, seasonal_naive)


def test_last_value_repeats_the_window_end():
    x = np.array([[1.0, 2.0, 3.0], [5.0, 6.0, 7.0]])
    np.testing.assert_array_equal(last_value(x, horizon=3), [[3, 3, 3], [7, 7, 7]])


def test_seasonal_naive_takes_the_value_one_season_back():
    # season 4: the target k steps after the window is forecast by the value 4 steps before it
    values = np.array([10.0, 20.0, 30.0, 40.0, 11.0, 21.0, 31.0, 41.0, 12.0, 22.0])
    x, y = windows(values, window=4, horizon=2)
    forecast = seasonal_naive(x, season=4, horizon=2)
    np.testing.assert_array_equal(forecast[0], [10.0, 20.0])  # targets 11, 21
    np.testing.assert_array_equal(forecast, values[np.arange(len(x))[:, None] + np.arange(2)])
    with pytest.raises(ConfigError, match="window"):
        seasonal_naive(x, season=5)
    with pytest.raises(ConfigError, match="horizon"):
        seasonal_naive(x, season=2, horizon=3)


def test_seasonal_naive_is_exact_on_a_pure_season():
    values = np.tile([1.0, 4.0, 2.0], 6)
    x, y = windows(values, window=3, horizon=1)
    np.testing.assert_array_equal(seasonal_naive(x, 3), y)


def test_linear_ar_recovers_an_ar_process_and_extrapolates_a_trend():
    rng = np.random.default_rng(0)
    v = np.zeros(300)
    for t in range(2, 300):
        v[t] = 0.6 * v[t - 1] - 0.3 * v[t - 2] + 1.0 + 0.01 * rng.standard_normal()
    x, y = windows(v, window=2)
    ar = fit_linear_ar(x[:200], y[:200], alpha=0.0)
    np.testing.assert_allclose(ar.model.coef_.ravel(), [-0.3, 0.6], atol=0.02)
    np.testing.assert_allclose(ar.model.intercept_, 1.0, atol=0.02)
    trend = np.arange(50.0) * 2 + 5  # fitted on the first 30 values, right far beyond them
    x, y = windows(trend, window=3, horizon=2)
    np.testing.assert_allclose(fit_linear_ar(x[:20], y[:20]).predict(x[30:]), y[30:], atol=1e-3)


def test_metrics_match_hand_computed_values():
    y_true = np.array([[100.0], [200.0], [400.0]])
    y_pred = np.array([[110.0], [190.0], [400.0]])
    m = forecast_metrics(y_true, y_pred)
    assert m["mae"] == pytest.approx(20 / 3)
    assert m["rmse"] == pytest.approx(np.sqrt(200 / 3))
    assert m["mape"] == pytest.approx(100 * (0.1 + 0.05 + 0.0) / 3)
    with pytest.raises(ValueError):
        forecast_metrics([1.0, 2.0], [1.0])


def test_baselines_share_the_windows_and_skip_an_unfitting_season():
    values = np.arange(40.0)
    x, y = windows(values, window=6, horizon=2)
    out = baseline_forecasts(x[:20], y[:20], x[20:], season=4)
    assert sorted(out) == ["last_value", "linear_ar", "seasonal_naive"]
    assert all(f.shape == y[20:].shape for f in out.values())
    np.testing.assert_allclose(out["linear_ar"], y[20:], atol=1e-3)  # a line is linear
    assert "seasonal_naive" not in baseline_forecasts(x[:20], y[:20], x[20:], season=52)
    assert "seasonal_naive" not in baseline_forecasts(x[:20], y[:20], x[20:], season=None)


def test_metrics_table_rows_in_order():
    results = {"linear_ar": {"mae": 1, "rmse": 2, "mape": 3}, "lstm": {"mae": 0.5, "rmse": 0.25, "mape": 0.125}}
    table = metrics_table(results, "ppmv", ["lstm", "seasonal_naive", "linear_ar"]).splitlines()
    assert table[0] == "| method | MAE (ppmv) | RMSE (ppmv) | MAPE (%) |"
    assert table[2:] == ["| LSTM | 0.500 | 0.250 | 0.125 |", "| linear AR | 1.000 | 2.000 | 3.000 |"]


# === The LSTM regressor (zoo.models.regressor) ===


def test_regressor_layers_train_step_and_keras_round_trip(tmp_path):
    import keras

    from zoo.models.regressor import build_lstm_regressor
    from zoo.training.freezing import layer_groups

    model = build_lstm_regressor(window=6, units=4, num_layers=2, dropout=0.1, horizon=3)
    assert [g for g, _ in layer_groups(model)] == ["encoder_1", "encoder_2", "head"]
    assert model.output_shape == (None, 3) and model.get_layer("head").dtype == "float32"
    x = np.random.default_rng(0).standard_normal((8, 6, 1)).astype("float32")
    y = x[:, -3:, 0]
    before = [w.copy() for w in model.get_layer("head").get_weights()]
    loss = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history["loss"][0]
    assert np.isfinite(loss)
    assert any(not np.allclose(b, a) for b, a in zip(before, model.get_layer("head").get_weights()))
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), restored.predict(x, verbose=0))
    assert [layer.name for layer in restored.layers] == [layer.name for layer in model.layers]


@pytest.mark.parametrize("kwargs,parameter", [({"units": 0}, "units"), ({"dropout": 1.0}, "dropout"),
                                              ({"horizon": True}, "horizon"), ({"window": -2}, "window")])
def test_regressor_bad_settings_name_the_setting(kwargs, parameter):
    from zoo.models.regressor import build_lstm_regressor

    with pytest.raises(ConfigError) as error:
        build_lstm_regressor(**{"window": 4, **kwargs})
    assert error.value.parameter == parameter


def _stage_run(backup_dir, epochs=4, crash_after=None):
    """A tiny regressor with dropout trained by run_stages with the recipe's resumable early stopping.

    Each call builds its data afresh, with the seeds of a new process: a resumed run must replay the shuffle
    passes of the killed one (a windows dataset has a known number of batches: two passes per epoch) and
    keep early stopping's and dropout's state.
    """
    import keras

    from zoo.data.series import make_dataset
    from zoo.models.regressor import build_lstm_regressor
    from zoo.training.stages import Stage, run_stages

    recipe = _recipe()
    keras.utils.set_random_seed(0)
    x, y = windows(np.sin(np.arange(80) / 3.0), window=5)
    train, valid = make_dataset(x[:50], y[:50], 16, shuffle=True, seed=0), make_dataset(x[50:], y[50:], 16)
    model = build_lstm_regressor(5, units=3, dropout=0.2, compile=False)

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == crash_after:
                raise KeyboardInterrupt("killed")

    callbacks = [recipe.resumable_early_stopping(str(backup_dir), patience=1), Crash()]
    history = run_stages(model, [Stage("train", epochs, 0.01)], train, valid, backup_dir=str(backup_dir),
                         callbacks=callbacks, verbose=0)
    return model, history


def test_a_killed_stage_resumes_to_the_same_weights(tmp_path):
    straight, straight_history = _stage_run(tmp_path / "straight")
    with pytest.raises(KeyboardInterrupt):
        _stage_run(tmp_path / "killed", crash_after=2)
    assert (tmp_path / "killed" / "train.early_stopping.npz").exists()
    resumed, resumed_history = _stage_run(tmp_path / "killed")
    assert [h["val_loss"] for h in resumed_history] == pytest.approx([h["val_loss"] for h in straight_history])
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# === The recipe (recipes/time_series.py), tiny runs in this process ===

TINY_RUN = ["--epochs", "2", "--units", "4", "--window", "8", "--max-points", "260", "--batch-size", "64"]


def _recipe():
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "..", "recipes", "time_series.py")
    spec = importlib.util.spec_from_file_location("time_series_recipe", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_recipe_end_to_end_then_resume_does_not_retrain(tmp_path, caplog):
    import json
    import logging

    recipe = _recipe()
    out, backup = tmp_path / "run", tmp_path / "backup"
    args = TINY_RUN + ["--output-dir", str(out), "--backup-dir", str(backup)]
    metrics = recipe.main(args)
    assert sorted(p.name for p in out.iterdir()) == [".zoo", "config.json", "forecast.png", "metrics.json",
                                                     "model.keras", "report.md"]
    saved = json.loads((out / "metrics.json").read_text())
    assert sorted(saved["test"]) == ["last_value", "linear_ar", "lstm"]  # window 8 < season 52: no seasonal naive
    assert set(saved["test"]["lstm"]) == {"mae", "rmse", "mape"} and saved["units"]["mae"] == "ppmv"
    report = (out / "report.md").read_text()
    assert "| LSTM |" in report and "| linear AR |" in report and "Seasonal naive: not computed" in report
    config = json.loads((out / "config.json").read_text())
    assert config["scaler"]["fitted_on"] == "train part" and config["split_dates"]["train"][0] == "1958-03-29"
    assert (out / "forecast.png").read_bytes()[:4] == b"\x89PNG"

    rows = (backup / "train.csv").read_text()
    with caplog.at_level(logging.INFO, logger="zoo"):
        logging.getLogger("zoo").addHandler(caplog.handler)
        try:
            again = recipe.main(args + ["--overwrite"])  # (a finished run is replaced only when asked)
        finally:
            logging.getLogger("zoo").removeHandler(caplog.handler)
    assert "finished before the restart" in caplog.text
    assert (backup / "train.csv").read_text() == rows  # no epoch trained again
    assert again["test"] == metrics["test"]


@pytest.mark.slow
def test_recipe_with_a_season_reports_seasonal_naive(tmp_path):
    import json

    recipe = _recipe()
    out = tmp_path / "run"
    recipe.main(["--epochs", "1", "--units", "2", "--window", "52", "--max-points", "700", "--output-dir", str(out)])
    saved = json.loads((out / "metrics.json").read_text())
    assert sorted(saved["test"]) == ["last_value", "linear_ar", "lstm", "seasonal_naive"]
    assert "| seasonal naive |" in (out / "report.md").read_text()


@pytest.mark.parametrize("flags,message", [
    (["--window", "0"], "error: --window must be an integer >= 1, got 0"),
    (["--valid-fraction", "0.5", "--test-fraction", "0.5"], "error: --valid-fraction + --test-fraction must be"),
    (["--learning-rate", "-1"], "error: --learning-rate must be positive"),
    (["--epochs", "two"], "error: argument --epochs: invalid int value: 'two'"),
    (["--series", "nope"], "error: argument --series: invalid choice"),
])
def test_recipe_bad_flag_is_one_line_and_writes_nothing(tmp_path, capsys, flags, message):
    recipe = _recipe()
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_:
        recipe.main(flags + ["--output-dir", str(out), "--backup-dir", str(tmp_path / "backup")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and len(err.splitlines()) == 1
    assert not out.exists() and not (tmp_path / "backup").exists()


def test_recipe_too_short_series_is_one_line(tmp_path, capsys):
    recipe = _recipe()
    with pytest.raises(SystemExit) as exit_:
        recipe.main(["--max-points", "40", "--window", "8", "--output-dir", str(tmp_path / "run")])
    assert exit_.value.code == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: the validation part has 6 values") and not (tmp_path / "run").exists()
