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
    sweep = probes.parse_arguments(["sweep"])
    assert (sweep.epochs, sweep.train_size, sweep.validation_size, sweep.test_size) == ([4], 6_000, 5_000, 10_000)
    assert probes.parse_arguments(["budget"]).train_size == 40_000
    convergence = probes.parse_arguments(["convergence"])
    assert (convergence.epochs, convergence.train_size) == ([30], 60_000)
    spread = probes.parse_arguments(["spread"])
    assert (spread.seeds, spread.train_size, spread.test_size) == ([42, 43, 44, 45, 46], 6_000, 5_000)


@pytest.mark.parametrize("arguments", [[], ["speed"], ["convergence", "--epochs", "0"], ["spread", "--test-size", "-1"],
                                       ["spread", "--seeds", "3", "3"], ["sweep", "--finalists", "0"],
                                       ["convergence", "--epochs", "10", "20"], ["sweep", "--recipes", "fast"],
                                       ["batch", "--repeats", "1"], ["steps", "--epochs", "1"]])
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


def test_the_sweep_chooses_on_validation_and_scores_the_test_set_only_for_its_choice(tmp_path, in_this_process,
                                                                                    monkeypatch, capsys):
    recipes = ["constant 2e-3, batch 64", "warm-up 10% + cosine, peak 4e-3, batch 64"]
    tested = []
    score_on_test = probes.score_on_test
    monkeypatch.setattr(probes, "score_on_test", lambda task: tested.append(task["model_paths"]) or score_on_test(task))
    # One model is enough to check the stages: each is built by name (probes.MODELS), and the U-Net trains
    # the same way in test_the_budget_scores_each_seed_on_validation.
    result = probes.main(["sweep", "--recipes", *recipes, "--finalists", "1", "--epochs", "1", "--train-size", "64",
                          "--validation-size", "48", "--test-size", "32", "--models", "autoencoder",
                          "--output-dir", str(tmp_path)])
    assert [(row["model"], row["label"]) for row in result["stage_1"]] == [("autoencoder", recipe) for recipe in recipes]
    assert all(5 < row["validation_psnr"] < 40 and "test_psnr" not in row for row in result["stage_1"]
               if row["label"] != result["chosen"])
    # The best of stage 1 by mean validation PSNR trains again with two more seeds, and is chosen.
    means = {label: np.mean([row["validation_psnr"] for row in result["stage_1"] if row["label"] == label])
             for label in recipes}
    assert result["finalists"] == [max(recipes, key=means.get)] == [result["chosen"]]
    assert {(row["label"], row["seed"]) for row in result["stage_2"]} == {
        (label, seed) for label in result["finalists"] for seed in probes.FINAL_SEEDS}
    # Different schedules give different models: the recipe reached train_denoiser.
    assert result["stage_1"][0]["validation_psnr"] != result["stage_1"][1]["validation_psnr"]
    # The test set was read once, for the chosen recipe's models only (1 model x 3 seeds).
    assert len(tested) == 1 and len(tested[0]) == 3 and all(probes._slug(result["chosen"]) in path for path in tested[0])
    assert sum("test_psnr" in row for row in result["stage_1"] + result["stage_2"]) == 3
    assert json.loads((tmp_path / "probe_sweep.json").read_text())["chosen"] == result["chosen"]
    output = capsys.readouterr().out
    assert "| warm-up 10% + cosine, peak 4e-3, batch 64 |" in output and f"Chosen on validation: {result['chosen']}" in output


def test_the_notebooks_run_trains_and_scores_every_network_and_experiment():
    # One seed, for real: every network and experiment model of the notebook trains and is scored. (That a run is
    # reproducible with its seed, tests/test_saving.py checks.)
    row = probes.notebook_run({"mnist_path": None, "train_size": 64, "test_size": 32, "seed": 1, "epochs": 1,
                               "announce": False})
    assert set(row["networks"]) == {"noisy input", "median filter", *probes.benchmark.MODELS}
    assert all(5 < psnr < 40 for psnr in row["networks"].values())
    assert set(row["experiments"]) == {"noisy input", *probes.EXPERIMENTS}
    assert all(len(by_test) == 5 for by_test in row["experiments"].values())


def test_the_spread_summarizes_each_seeds_run_and_reprints_from_its_file(tmp_path, in_this_process, monkeypatch,
                                                                          capsys):
    # Each seed's run is the test above; here, stand-ins with known scores, to check the summary over seeds.
    def stand_in(task):
        seed = task["seed"]
        return {"seed": seed, "networks": {name: 10.0 + seed for name in ("noisy input", "median filter",
                                                                          *probes.benchmark.MODELS)},
                "experiments": {name: {"gaussian 0.1": 20.0 + seed} for name in ("noisy input", *probes.EXPERIMENTS)}}

    monkeypatch.setattr(probes, "notebook_run", stand_in)
    result = probes.main(["spread", "--seeds", "1", "2", "--epochs", "1", "--train-size", "64", "--test-size", "32",
                          "--output-dir", str(tmp_path)])
    assert [run["seed"] for run in result["runs"]] == [1, 2]
    assert set(result["runs"][0]["networks"]) == {"noisy input", "best classical filter", "our autoencoder",
                                                  "keras.io baseline", "U-Net", "residual (DnCNN-style)"}
    mean, sd = result["summary"]["networks"]["U-Net"]
    assert mean == pytest.approx(11.5) and sd == pytest.approx(np.std([11.0, 12.0], ddof=1))
    assert "| U-Net | 11.50 ± 0.71 |" in capsys.readouterr().out
    # The tables of a finished run can be printed again from its result file, without training.
    again = probes.main(["spread", "--from-json", str(tmp_path / "probe_spread.json"), "--output-dir", str(tmp_path)])
    assert again["runs"] == result["runs"] and again["summary"] == result["summary"]


def test_the_budget_scores_each_seed_on_validation(tmp_path, in_this_process):
    result = probes.main(["budget", "--seeds", "1", "2", "--models", "U-Net", "--epochs", "1",
                          "--train-size", "64", "--validation-size", "48", "--output-dir", str(tmp_path)])
    assert [(row["seed"], row["model"]) for row in result["rows"]] == [(1, "U-Net"), (2, "U-Net")]
    assert all(row["validation_images"] == 48 and "test_psnr" not in row for row in result["rows"])


def test_convergence_reports_the_test_psnr_after_every_epoch(tmp_path, in_this_process, capsys):
    result = probes.main(["convergence", "--epochs", "2", "--train-size", "64", "--test-size", "32",
                          "--output-dir", str(tmp_path)])
    (row,) = result["rows"]
    assert row["model"] == "U-Net" and row["train_images"] == 64 and len(row["test_psnr_per_epoch"]) == 2
    # The last epoch's score is the final test PSNR (to the metric's 1e-10 floor).
    assert row["test_psnr_per_epoch"][-1] == pytest.approx(row["psnr"], abs=1e-3)
    output = capsys.readouterr().out
    assert "| 2 |" in output and "2 epochs on 64 images" in output


def test_the_speed_probes_time_each_setting_repeatedly_and_pair_the_ratios(tmp_path, in_this_process, monkeypatch):
    monkeypatch.setattr(probes.benchmark, "MODELS", {"keras.io baseline": probes.benchmark.MODELS["keras.io baseline"]})
    result = probes.main(["batch", "--repeats", "2", "--epochs", "2", "--train-size", "48", "--validation-size", "16",
                          "--test-size", "32",
                          "--output-dir", str(tmp_path)])
    assert [(row["repeat"], row["label"]) for row in result["rows"]] == [
        (1, "batch 16"), (1, "batch 8"), (2, "batch 16"), (2, "batch 8")]  # interleaved
    assert all(len(row["epoch_seconds"]) == 2 for row in result["rows"])
    table = result["report"]["main"]
    assert table[-2].startswith("| keras.io baseline | batch 16 |") and "| 1.00 ± 0.00 |" in table[-2]
    assert all(row["psnr"] > 0 for row in result["rows"])


def test_the_backends_probe_times_each_backend_apart_from_tensorflow(monkeypatch):
    import keras

    running = keras.backend.backend()
    other = "torch" if running == "jax" else "jax"
    monkeypatch.setenv("KERAS_BACKEND", running)  # restored afterwards: time_training sets it for its process
    assert list(probes.SPEED_SETTINGS["backends"]) == ["TensorFlow", "JAX", "PyTorch"]  # the ratio is to the first
    # In a process where Keras already runs on one backend, timing another would time the first again: refused.
    task = {"model": "keras.io baseline", "label": other, "setting": {"backend": other}, "repeat": 1, "epochs": 2,
            "train_size": 48, "validation_size": 16, "test_size": 32, "mnist_path": None}
    with pytest.raises(RuntimeError, match="fresh process"):
        probes.time_training(task)
