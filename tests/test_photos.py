"""Unit tests for the photographs of part 2: load_photo, patch_sampler, train_denoiser on fresh patches,
non-local means told the noise level, and benchmarks/photos.py."""

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import utils
from benchmarks import photos as photo_benchmark


@pytest.mark.parametrize("name", utils.PHOTOS)
def test_every_photo_loads_grey_in_the_unit_range_without_a_download(name):
    photo = utils.load_photo(name)
    assert photo.ndim == 2 and photo.dtype == np.float32 and min(photo.shape) >= 100
    assert 0.0 <= photo.min() < photo.max() <= 1.0


def test_a_colour_photo_becomes_its_luminance():
    from skimage import color, data

    np.testing.assert_allclose(utils.load_photo("astronaut"), color.rgb2gray(data.astronaut()), atol=1e-6)


@pytest.mark.parametrize("name, error", [("lena", ValueError), ("horse", ValueError), (3, TypeError)])
def test_load_photo_names_what_it_has(name, error):
    with pytest.raises(error, match="name must be"):
        utils.load_photo(name)


def test_patches_are_cut_from_the_photos_fresh_each_epoch_and_reproducible():
    photos = [np.random.default_rng(index).random((50 + 10 * index, 60), dtype=np.float32) for index in range(3)]
    sampler = utils.patch_sampler(photos, count=300, size=16, seed=7)
    first, second = sampler(0), sampler(1)
    assert first.shape == (300, 16, 16, 1) and first.dtype == np.float32
    np.testing.assert_array_equal(first, utils.patch_sampler(photos, count=300, size=16, seed=7)(0))
    assert not np.array_equal(first, second)
    # Every patch is a window of one of the photos, and each photo is used.
    windows = [np.lib.stride_tricks.sliding_window_view(photo, (16, 16)) for photo in photos]
    sources = []
    for patch in first[:40, :, :, 0]:
        matches = [index for index, view in enumerate(windows) if (view == patch).all(axis=(2, 3)).any()]
        assert len(matches) == 1
        sources.append(matches[0])
    assert set(sources) == {0, 1, 2}
    assert sampler.settings == {"photos": [[50, 60], [60, 60], [70, 60]], "patch_seed": 7}


@pytest.mark.parametrize("kwargs, error, message", [
    ({"photos": []}, TypeError, "photos must be a non-empty list"),
    ({"photos": np.zeros((40, 40), np.float32)}, TypeError, "photos must be a non-empty list"),
    ({"photos": [np.zeros((40, 40, 3), np.float32)]}, ValueError, r"photos\[0\] must be one non-empty grey image"),
    ({"photos": [np.zeros((40, 40), np.uint8)]}, ValueError, "divide uint8 images by 255"),
    ({"photos": [np.full((40, 40), 2.0, np.float32)]}, ValueError, r"values in \[0, 1\]"),
    ({"size": 41}, ValueError, "size must be at most the smallest photo's side"),
    ({"size": 0}, ValueError, "size must be"),
    ({"count": 0}, ValueError, "count must be"),
    ({"count": 2.5}, TypeError, "count must be"),
    ({"seed": -1}, ValueError, "seed must be"),
])
def test_patch_sampler_rejects_bad_arguments(kwargs, error, message):
    arguments = {"photos": [np.zeros((40, 40), np.float32)], "count": 4, "size": 8, "seed": 0, **kwargs}
    with pytest.raises(error, match=message):
        utils.patch_sampler(arguments.pop("photos"), **arguments)


def test_train_denoiser_takes_fresh_patches_every_epoch(monkeypatch):
    seen = []

    def recording_fit(model, x, y, **kwargs):  # records what fit is given instead of training
        seen.append(np.sort(y.reshape(len(y), -1), axis=0))
        history = keras.callbacks.History()
        history.history = {"loss": [0.01], "psnr": [30.0]}
        return history

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    photos = [np.random.default_rng(1).random((64, 64), dtype=np.float32)]
    sampler = utils.patch_sampler(photos, count=32, size=16, seed=5)
    utils.train_denoiser(utils.build_unet(), sampler, epochs=2, noise_level=0.1, verbose=0)
    for epoch, targets in enumerate(seen):  # each epoch's targets are that epoch's patches, in some order
        np.testing.assert_array_equal(targets, np.sort(sampler(epoch).reshape(32, -1), axis=0))


def test_a_patch_sampler_that_changes_shape_is_refused():
    def shrinking(epoch):
        return np.zeros((8 - epoch, 16, 16, 1), np.float32)

    with pytest.raises(ValueError, match=r"clean_images\(1\) must be the shape of epoch 0's images"):
        utils.train_denoiser(utils.build_unet(), shrinking, epochs=2, verbose=0)


def test_a_unet_trained_on_patches_denoises_a_whole_photo_it_never_saw(tmp_path):
    keras.utils.set_random_seed(0)
    photos = [utils.load_photo(name) for name in ("camera", "coins", "grass", "brick")]
    sampler = utils.patch_sampler(photos, count=1_000, size=32, seed=0)
    model = utils.build_unet()
    utils.train_denoiser(model, sampler, epochs=3, noise_level=0.1, loss="mean_squared_error", verbose=0,
                         checkpoint_path=tmp_path / "photo.keras")
    clock = utils.load_photo("clock")
    noisy = utils.add_noise(clock[None], "gaussian", 0.1, seed=1)[0]
    assert utils.psnr(clock[None], utils.denoise_image(model, noisy)[None])[0] > \
        utils.psnr(clock[None], noisy[None])[0] + 5.0
    # The checkpoint knows which patches it was trained on: another patch seed is refused.
    other = utils.patch_sampler(photos, count=1_000, size=32, seed=1)
    with pytest.raises(ValueError, match="patch_seed was 0, now 1"):
        utils.train_denoiser(model, other, epochs=3, noise_level=0.1, loss="mean_squared_error", verbose=0,
                             checkpoint_path=tmp_path / "photo.keras", resume=True)


def test_non_local_means_told_the_noise_level_does_better_on_a_photo():
    photo = utils.load_photo("camera")[128:320, 128:320][None]
    noisy = utils.add_noise(photo, "gaussian", 0.1, seed=0)
    blind = utils.psnr(photo, utils.classical_denoise(noisy, "nl_means", 0.07))[0]
    told = utils.psnr(photo, utils.classical_denoise(noisy, "nl_means", 0.07, noise_sigma=0.1))[0]
    assert told > blind + 0.5
    best, scores = utils.tune_classical_filter("nl_means", photo, noisy, grid=(0.05, 0.07), noise_sigma=0.1)
    assert scores[0.07] == pytest.approx(told) and best in scores


@pytest.mark.parametrize("noise_sigma, error", [(-0.1, ValueError), (2.0, ValueError), ("0.1", TypeError)])
def test_classical_denoise_rejects_a_bad_noise_sigma(noise_sigma, error):
    with pytest.raises(error, match="noise_sigma must be"):
        utils.classical_denoise(np.zeros((1, 8, 8), np.float32), "nl_means", 0.1, noise_sigma=noise_sigma)


def test_the_benchmark_scores_the_notebooks_noisy_test_photos():
    clean, noisy = photo_benchmark.noisy_test_photos()
    assert [photo.shape for photo in clean] == [utils.load_photo(name).shape for name in photo_benchmark.TEST_PHOTOS]
    np.testing.assert_array_equal(noisy[1], utils.add_noise(clean[1][None], "gaussian", 25 / 255, seed=(42, 1))[0])


def test_the_benchmark_says_when_bm3d_is_missing():
    script = "import sys; sys.modules['bm3d'] = None; sys.argv = ['photos.py', 'bm3d']; import runpy; " \
             "runpy.run_path('benchmarks/photos.py', run_name='__main__')"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 1 and "the bm3d package is not installed" in result.stderr


def test_the_photo_sweep_chooses_on_validation_and_reads_the_test_photos_only_at_the_end(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(photo_benchmark.benchmark, "run_in_fresh_process", lambda function, task: function(task))
    read = []
    noisy_test_photos = photo_benchmark.noisy_test_photos
    monkeypatch.setattr(photo_benchmark, "noisy_test_photos", lambda seed=42: read.append(seed) or noisy_test_photos(seed))
    trained = []
    train = photo_benchmark.train_photo_unet
    monkeypatch.setattr(photo_benchmark, "train_photo_unet", lambda task: trained.append(len(read)) or train(task))
    recipes = ["32-pixel patches, batch 32, peak 4e-3", "32-pixel patches, batch 32, peak 2e-3"]
    result = photo_benchmark.main(["sweep", "--recipes", *recipes, "--finalists", "1", "--epochs", "1", "--patches",
                                   "64", "--filters", "median", "gaussian_blur", "--output-dir", str(tmp_path)])
    assert trained == [0, 0, 0, 0]  # 2 recipes, then the best again with 2 seeds: none had read a test photo
    assert read == [42, 43, 44]  # then once per seed of the chosen recipe
    best = max(result["stage_1"], key=lambda row: row["validation_psnr"])["label"]
    assert result["finalists"] == [best] == [result["chosen"]]
    assert all(len(row["curve_psnr"]) == 1 and row["curve_psnr"][-1] == row["validation_psnr"]
               for row in result["stage_1"])
    for row in result["test"]:
        assert set(row["psnr"]) == {"noisy input", "photo U-Net", "median", "gaussian_blur"}
        assert all(len(values) == 4 for values in row["psnr"].values()) and row["best_filter"] in ("median",
                                                                                                   "gaussian_blur")
    assert (tmp_path / "photo_sweep.json").is_file()
    output = capsys.readouterr().out
    assert f"Chosen on validation: {best}" in output and "| photo U-Net minus best filter |" in output
