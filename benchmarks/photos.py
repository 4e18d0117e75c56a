"""BM3D on the notebook's test photographs, for context: the strongest classical denoiser.

    pip install bm3d        # free for non-commercial use only: not one of the tutorial's requirements
    python benchmarks/photos.py

It scores BM3D on exactly the noisy test photos that the notebook's "Photographs" section scores (the same
photos, noise level and seeds), told the true noise level, and prints the mean PSNR, the figure that
``benchmarks/README.md`` quotes. Without the ``bm3d`` package it says so and stops.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import utils

# As the notebook's parameters and its "Photographs" section set them.
SEED = 42
PHOTO_NOISE_SIGMA = 25 / 255
TEST_PHOTOS = ("camera", "moon", "coins", "clock")


def noisy_test_photos():
    """The notebook's test photos and their noisy copies, noise drawn from the seed (SEED, index) as there."""
    clean = [utils.load_photo(name) for name in TEST_PHOTOS]
    noisy = [utils.add_noise(photo[None], "gaussian", PHOTO_NOISE_SIGMA, seed=(SEED, index))[0]
             for index, photo in enumerate(clean)]
    return clean, noisy


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    try:
        import bm3d
    except ImportError:
        raise SystemExit("the bm3d package is not installed (pip install bm3d; free for non-commercial use "
                         "only), so there is nothing to measure") from None
    clean, noisy = noisy_test_photos()
    scores = []
    for name, clean_photo, noisy_photo in zip(TEST_PHOTOS, clean, noisy, strict=True):
        start = time.perf_counter()
        restored = np.clip(bm3d.bm3d(noisy_photo, sigma_psd=PHOTO_NOISE_SIGMA), 0.0, 1.0).astype(np.float32)
        scores.append(float(utils.psnr(clean_photo[None], restored[None])[0]))
        print(f"{name}: {scores[-1]:.2f} dB ({time.perf_counter() - start:.0f} s)", flush=True)
    noisy_mean = np.mean([utils.psnr(c[None], n[None])[0] for c, n in zip(clean, noisy, strict=True)])
    print(f"BM3D, mean PSNR on the {len(TEST_PHOTOS)} test photos: {np.mean(scores):.2f} dB "
          f"(noisy input {noisy_mean:.2f} dB)")


if __name__ == "__main__":
    main()
