"""Tests for benchmarks/probes.py: its arguments, its schedules, and each probe end to end on a few images."""

import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks import probes

import utils


def test_arguments_default_to_the_budgets_the_readme_quotes():
    assert probes.parse_arguments(["sweep"]).epochs == [2] and probes.parse_arguments(["sweep"]).train_size == 40_000
    assert probes.parse_arguments(["budget"]).epochs == [1, 2, 3, 4, 6]
    convergence = probes.parse_arguments(["convergence"])
    assert (convergence.epochs, convergence.train_size) == ([30], 60_000)
    assert probes.parse_arguments(["seeds"]).seeds == [42, 43, 44]


@pytest.mark.parametrize("arguments", [[], ["speed"], ["convergence", "--epochs", "0"], ["seeds", "--test-size", "-1"],
                                       ["convergence", "--epochs", "10", "20"], ["sweep", "--recipes", "fast"]])
def test_bad_arguments_stop_with_a_message(arguments, capsys):
    with pytest.raises(SystemExit):
        probes.parse_arguments(arguments)
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("label", list(probes.RECIPES))
def test_each_recipe_is_a_keras_schedule_with_the_shape_it_names(label):
    recipe = probes.RECIPES[label]
    schedule = probes.schedule(recipe, 1000)
    assert isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule)
    top = round(recipe.get("warmup", 0.1) * 1000) if recipe["schedule"] == "warmup-cosine" else 0  # the peak's step
    rates = np.array([float(schedule(step)) for step in (0, 20, top, 499, 700, 900, 999)])
    peak = recipe["peak"]
    if recipe["schedule"] == "constant":
        np.testing.assert_allclose(rates, peak, rtol=1e-6)
    else:
        assert rates.max() == pytest.approx(peak, rel=0.05) and rates[-1] < 0.05 * peak  # annealed to (near) zero
    if recipe["schedule"] == "warmup-cosine" and recipe.get("warmup", 0.1) > 0:
        assert rates[0] == 0.0 and 0.0 < rates[1] < rates[2]  # warming up


def test_the_tutorials_schedule_warms_up_then_decays_to_zero():
    schedule = utils.learning_rate_schedule(4e-3, 1000)
    rates = [float(schedule(step)) for step in (0, 50, 100, 550, 1000)]
    assert rates[0] == 0.0 and rates[1] == pytest.approx(2e-3) and rates[2] == pytest.approx(4e-3)
    assert rates[3] == pytest.approx(2e-3, rel=1e-3) and rates[4] == pytest.approx(0.0, abs=1e-9)


@pytest.fixture
def in_this_process(monkeypatch):
    monkeypatch.setattr(probes.benchmark, "run_in_fresh_process", lambda function, task: function(task))


def test_the_sweep_trains_each_model_with_each_recipe(tmp_path, in_this_process, capsys):
    recipes = ["constant 2e-3, batch 64", "warm-up 10% + cosine, peak 4e-3, batch 64"]
    result = probes.main(["sweep", "--recipes", *recipes, "--train-size", "64", "--test-size", "32",
                          "--output-dir", str(tmp_path)])
    assert [(row["model"], row["label"]) for row in result["rows"]] == [
        (model, recipe) for recipe in recipes for model in ("autoencoder", "U-Net")]
    assert all(5 < row["psnr"] < 40 and row["training_seconds"] > 0 for row in result["rows"])
    # Different schedules give different models: the recipe reached train_denoiser.
    assert result["rows"][0]["psnr"] != result["rows"][2]["psnr"]
    assert json.loads((tmp_path / "probe_sweep.json").read_text())["rows"] == result["rows"]
    assert "| warm-up 10% + cosine, peak 4e-3, batch 64 |" in capsys.readouterr().out


def test_seeds_differ_and_a_repeated_seed_agrees(tmp_path, in_this_process):
    result = probes.main(["seeds", "--seeds", "1", "2", "1", "--models", "autoencoder", "--epochs", "1",
                          "--train-size", "64", "--test-size", "32", "--output-dir", str(tmp_path)])
    first, second, again = (row["psnr"] for row in result["rows"])
    assert first != second and first == pytest.approx(again, abs=1e-6)


def test_convergence_reports_the_test_psnr_after_every_epoch(tmp_path, in_this_process, capsys):
    result = probes.main(["convergence", "--epochs", "2", "--train-size", "64", "--test-size", "32",
                          "--output-dir", str(tmp_path)])
    (row,) = result["rows"]
    assert row["model"] == "U-Net" and row["train_images"] == 64 and len(row["test_psnr_per_epoch"]) == 2
    # The last epoch's score is the final test PSNR (to the metric's 1e-10 floor).
    assert row["test_psnr_per_epoch"][-1] == pytest.approx(row["psnr"], abs=1e-3)
    output = capsys.readouterr().out
    assert "| 2 |" in output and "2 epochs on 64 images" in output
