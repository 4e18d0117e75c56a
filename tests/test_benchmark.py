"""Tests for benchmarks/run.py: its arguments, one tiny end-to-end run, and the training-speed worker."""

import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks import run as benchmark  # noqa: E402


def test_arguments_have_full_and_quick_defaults():
    full = benchmark.parse_arguments([])
    assert (full.train_size, full.test_size, full.epochs) == (60_000, 10_000, 2)
    quick = benchmark.parse_arguments(["--quick"])
    assert (quick.train_size, quick.test_size, quick.batch_size, quick.tuning_size) == (3_000, 1_000, 64, 100)
    assert benchmark.parse_arguments(["--quick", "--train-size", "500"]).train_size == 500
    assert full.tuning_size == 300 and full.batch_size == 128


@pytest.mark.parametrize("arguments", [["--epochs", "0"], ["--train-size", "-5"], ["--models", "U-Net"],
                                       ["--models", "transformer"]])
def test_bad_arguments_stop_with_a_message(arguments, capsys):
    with pytest.raises(SystemExit):
        benchmark.parse_arguments(arguments)
    assert "error:" in capsys.readouterr().err


def test_a_tiny_run_writes_every_table_and_the_plot(tmp_path, capfd):
    benchmark.main(["--train-size", "64", "--test-size", "32", "--epochs", "1", "--models", "keras.io baseline",
                    "--no-speed", "--output-dir", str(tmp_path)])
    for name in ("results.md", "results.csv", "frontier.png", "run.json"):
        assert (tmp_path / name).is_file(), name
    with open(tmp_path / "results.csv") as file:
        rows = list(csv.DictReader(file))
    methods = {row["method"] for row in rows}
    assert "keras.io baseline" in methods and "noisy input" in methods
    assert "median filter" in methods
    assert {row["level"] for row in rows} == {"0.3", "0.5"}
    baseline = [row for row in rows if row["method"] == "keras.io baseline"]
    assert all(float(row["train_images_per_s"]) > 0 and float(row["peak_memory_mb"]) > 100 for row in baseline)
    assert all(int(float(row["flops"])) == 9_031_680 for row in baseline)
    table = (tmp_path / "results.md").read_text()
    assert "| keras.io baseline | 28,353 | 9.0 |" in table and "(1.00×)" in table
    assert "| median filter (" in table  # the strength tuned for each level
    output = capfd.readouterr().out  # capfd: the workers are other processes, writing to the same stdout
    assert not (tmp_path / "training_speed.csv").exists()  # --no-speed
    assert "[keras.io baseline, level 0.5] training on 64 images" in output and "epoch 1/1" in output
    assert "Loaded MNIST from" in output  # which data it used


@pytest.mark.parametrize("variant", [benchmark.PLAIN, benchmark.DEFAULT, "PyDataset, fresh noise per batch"])
def test_training_speed_measures_a_variant(variant):
    row = benchmark.training_speed({"train_size": 96, "test_size": 32, "epochs": 2, "mnist_path": None,
                                    "model": "keras.io baseline", "variant": variant, "batch_size": 128})
    assert row["variant"] == variant and row["train_images_per_s"] > 0
    assert 5 < row["psnr"] < 40 and row["flops"] == 9_031_680
