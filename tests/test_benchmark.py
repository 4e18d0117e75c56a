"""Tests for benchmarks/run.py: its arguments, one tiny end-to-end run, and the training-speed worker."""

import base64
import csv
import importlib.util
import json
import os
import sys
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks import run as benchmark

# A tf.data pipeline feeds fit under any Keras backend, but needs TensorFlow installed.
needs_tensorflow = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                      reason="a tf.data pipeline needs TensorFlow installed")

def test_arguments_have_full_and_quick_defaults():
    full = benchmark.parse_arguments([])
    assert (full.train_size, full.test_size, full.epochs) == (60_000, 10_000, 4)
    quick = benchmark.parse_arguments(["--quick"])
    assert (quick.train_size, quick.test_size, quick.tuning_size) == (3_000, 1_000, 100)
    assert benchmark.parse_arguments(["--quick", "--train-size", "500"]).train_size == 500
    assert full.tuning_size == 300 and full.batch_size is None  # None: train_denoiser's own
    assert not full.emulated_bfloat16 and benchmark.parse_arguments(["--emulated-bfloat16"]).emulated_bfloat16


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
    if keras.backend.backend() == "tensorflow":
        assert "oneDNN on" in table  # the workers use oneDNN, as the notebook does
    else:
        assert f"Keras {keras.__version__}" in table and "oneDNN" not in table
    output = capfd.readouterr().out  # capfd: the workers are other processes, writing to the same stdout
    assert not (tmp_path / "training_speed.csv").exists()  # --no-speed
    assert "[keras.io baseline, level 0.5] training on 64 images" in output and "epoch 1/1" in output
    assert "Loaded MNIST from" in output  # which data it used


@pytest.mark.parametrize("variant", [benchmark.DEFAULT, pytest.param("tf.data pipeline, fixed prefetch, no autotuning",
                                                                      marks=needs_tensorflow),
                                     "PyDataset, fresh noise per batch", "twice the batch size"])
def test_training_speed_measures_a_variant(variant, monkeypatch):
    # In this process TensorFlow has started already, so the variant's oneDNN choice cannot apply; the
    # worker still edits TF_ENABLE_ONEDNN_OPTS, which monkeypatch restores afterwards.
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1"))
    row = benchmark.training_speed({"train_size": 96, "test_size": 32, "epochs": 2, "mnist_path": None,
                                    "model": "keras.io baseline", "variant": variant, "batch_size": 32})
    assert row["variant"] == variant and row["train_images_per_s"] > 0
    assert row["batch_size"] == (64 if variant == "twice the batch size" else 32)
    assert 5 < row["psnr"] < 40 and row["flops"] == 9_031_680


@needs_tensorflow
def test_the_fed_variants_train_what_train_denoiser_trains(monkeypatch):
    # Same noise, order and batches, fed another way: the same test PSNR as the default row.
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1"))
    task = {"train_size": 96, "test_size": 32, "epochs": 2, "mnist_path": None, "model": "keras.io baseline",
            "batch_size": 32}
    default = benchmark.training_speed({**task, "variant": benchmark.DEFAULT})
    fed = benchmark.training_speed({**task, "variant": "tf.data pipeline, fixed prefetch, no autotuning"})
    assert fed["psnr"] == pytest.approx(default["psnr"], abs=1e-4)


def test_later_workers_read_the_first_workers_copy_of_the_data(tmp_path):
    utils, _ = benchmark._start_worker()
    task = {"mnist_path": None, "train_size": 50, "test_size": 20, "tuning_size": 10,
            "data_copy": str(tmp_path / "mnist.npz")}
    first = benchmark._load_data(utils, task)
    assert (tmp_path / "mnist.npz").is_file() and not list(tmp_path.glob("*.partial*"))
    again = benchmark._load_data(utils, {**task, "mnist_path": "/nonexistent.npz"})  # the copy wins
    for original, copied in zip(first, again):
        assert copied.dtype == original.dtype and copied.shape == original.shape
        assert (copied == original).all()  # pixels are bytes / 255: the copy is exact


@pytest.mark.parametrize(("native", "flag", "expect_bfloat16"), [(False, [], False), (False, ["--emulated-bfloat16"], True),
                                                                  (True, [], True)])
def test_bfloat16_is_timed_only_where_native_or_asked(native, flag, expect_bfloat16, monkeypatch, tmp_path, capsys):
    # Replace the workers: this checks which speed runs main() asks for, not the runs themselves.
    asked = []

    def fake_run(function, task):
        asked.append((function.__name__, task.get("variant"), task.get("data_copy")))
        return [] if function.__name__ != "training_speed" else {"variant": task["variant"]}

    monkeypatch.setattr(benchmark, "run_in_fresh_process", fake_run)
    backend = keras.backend.backend()
    monkeypatch.setattr(benchmark, "machine_details", lambda: {"bfloat16": native, "batch_size": 64,
                                                               "backend": backend})
    monkeypatch.setattr(benchmark, "write_results", lambda *arguments: (["table"], []))
    monkeypatch.delenv("MNIST_PATH", raising=False)
    benchmark.main(["--output-dir", str(tmp_path), *flag])
    variants = [variant for name, variant, _ in asked if name == "training_speed"]
    tensorflow_only = 0 if backend == "tensorflow" else len(benchmark.TENSORFLOW_ONLY)
    assert len(variants) == 2 * (len(benchmark.SPEED_VARIANTS) - (not expect_bfloat16) - tensorflow_only)
    assert (benchmark.BFLOAT16 in variants) == expect_bfloat16
    assert benchmark.DEFAULT in variants
    assert ("skipping 'mixed_bfloat16'" in capsys.readouterr().out) == (not expect_bfloat16)
    # Without MNIST_PATH every worker is pointed at one copy of the data, in a folder removed at the end.
    copies = {copy for _, _, copy in asked}
    assert len(copies) == 1 and copies.pop().endswith("mnist.npz")


def test_readme_figure_is_copied_from_the_tagged_cell(tmp_path):
    from benchmarks import readme_figure

    png = b"\x89PNG\r\n\x1a\n fake image bytes"
    notebook = {"cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [
            {"output_type": "display_data", "data": {"image/png": base64.b64encode(b"other").decode()}}]},
        {"cell_type": "code", "metadata": {"tags": ["readme-figure"]}, "outputs": [
            {"output_type": "display_data", "data": {"image/png": base64.b64encode(png).decode()}}]}]}
    (tmp_path / "run.ipynb").write_text(json.dumps(notebook))
    readme_figure.main([str(tmp_path / "run.ipynb"), "--output", str(tmp_path / "assets" / "figure.png")])
    assert (tmp_path / "assets" / "figure.png").read_bytes() == png
    notebook["cells"][1]["outputs"] = []  # not run yet: a clear message, no file
    (tmp_path / "unrun.ipynb").write_text(json.dumps(notebook))
    with pytest.raises(SystemExit, match="shows 0 figures, not one: run the notebook first"):
        readme_figure.main([str(tmp_path / "unrun.ipynb"), "--output", str(tmp_path / "other.png")])
    assert not (tmp_path / "other.png").exists()
