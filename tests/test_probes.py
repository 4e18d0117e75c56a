"""Tests for benchmarks/probes.py: its arguments, and both probes end to end on a few images."""

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks import probes


def test_arguments_default_to_the_budgets_readme_quotes():
    seeds = probes.parse_arguments(["seeds"])
    assert (seeds.seeds, seeds.train_size, seeds.test_size) == ([42, 43, 44], 8_000, 10_000)
    epochs = probes.parse_arguments(["epochs"])
    assert (epochs.epochs, epochs.train_size) == (8, 55_000)


@pytest.mark.parametrize("arguments", [[], ["speed"], ["epochs", "--epochs", "0"], ["seeds", "--test-size", "-1"]])
def test_bad_arguments_stop_with_a_message(arguments, capsys):
    with pytest.raises(SystemExit):
        probes.parse_arguments(arguments)
    assert "error:" in capsys.readouterr().err


@pytest.fixture
def in_this_process(monkeypatch):
    # TensorFlow has started in this process, so oneDNN cannot change here; the workers still edit
    # TF_ENABLE_ONEDNN_OPTS, which monkeypatch restores afterwards.
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1"))
    monkeypatch.setattr(probes.benchmark, "run_in_fresh_process", lambda function, task: function(task))


def test_seed_probe_scores_every_seed_both_ways(tmp_path, in_this_process, capsys):
    result = probes.main(["seeds", "--seeds", "1", "2", "--train-size", "64", "--test-size", "32",
                          "--output-dir", str(tmp_path)])
    off, on = result["runs"]
    assert off["seeds"] == on["seeds"] == [1, 2] and len(off["psnr"]) == len(on["psnr"]) == 2
    assert all(5 < value < 40 for value in off["psnr"] + on["psnr"])
    # Same process, same kernels, same seeds: the two runs must agree exactly.
    assert result["difference_db"] == [0.0, 0.0]
    assert json.loads((tmp_path / "probe_seeds.json").read_text())["runs"] == result["runs"]
    assert "seed 2:" in capsys.readouterr().out


def test_epoch_probe_reports_each_epoch_and_the_test_score(tmp_path, in_this_process, capsys):
    result = probes.main(["epochs", "--epochs", "2", "--train-size", "64", "--test-size", "32",
                          "--output-dir", str(tmp_path)])
    assert result["train_images"] == 64 and result["test_images"] == 32
    assert len(result["validation_psnr"]) == 2 and 5 < result["test_psnr"] < 40
    assert (tmp_path / "probe_epochs.json").is_file()
    output = capsys.readouterr().out
    assert "epoch 2: validation PSNR" in output and "test PSNR after 2 epochs on 64 images" in output
