"""Two smaller measurements that README quotes next to the benchmark's tables.

    python benchmarks/probes.py seeds    # test PSNR over seeds, oneDNN off and on (about 4 min on 2 cores)
    python benchmarks/probes.py epochs   # the U-Net trained longer: PSNR after each epoch (about 13 min)

``seeds`` answers "is a PSNR difference in the training-speed table a real
effect?". It trains the autoencoder on the speed table's budget (8,000 images,
2 epochs, batch size 128, Gaussian 0.5) with several seeds, once with
TensorFlow's default kernels and once with oneDNN, and scores each model on
the 10,000 test images with the benchmark's test noise. With seed 42 the two
runs are exactly the speed table's plain and default rows.

``epochs`` answers "would more training reach 22 dB?". It trains the U-Net
on 55,000 images at Gaussian 0.5 and reports the validation PSNR after every
epoch (on the last 5,000 training images) and the test PSNR at the end.

Each setting runs in a fresh process, since TensorFlow reads
``TF_ENABLE_ONEDNN_OPTS`` once, when it starts. Results are printed and
written as JSON to ``benchmarks/results/`` (git ignores it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import run as benchmark


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("probe", choices=("seeds", "epochs"), help="which measurement to run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44], help="seeds for 'seeds' (default: 42 43 44)")
    parser.add_argument("--epochs", type=int, default=8, help="epochs for 'epochs' (default: 8)")
    parser.add_argument("--train-size", type=int,
                        help="training images (default: 8,000 for 'seeds', the speed table's; 55,000 for 'epochs')")
    parser.add_argument("--test-size", type=int, default=10_000, help="test images scored (default: all 10,000)")
    parser.add_argument("--mnist-path", help="path to mnist.npz (default: the MNIST_PATH variable, then Keras)")
    parser.add_argument("--output-dir", type=Path, default=benchmark.RESULTS_DIR, help="where to write the JSON")
    arguments = parser.parse_args(argv)
    arguments.train_size = arguments.train_size or (8_000 if arguments.probe == "seeds" else 55_000)
    for name in ("epochs", "train_size", "test_size"):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if arguments.probe == "epochs" and arguments.train_size < 2:
        parser.error("--train-size must leave images for validation")
    return arguments


def seed_spread(task):
    """Train the autoencoder once per seed, with or without oneDNN, and score it. Own process."""
    utils, hardware = benchmark._start_worker(onednn=task["onednn"])
    import keras

    train_images, _, test_images = benchmark._load_data(utils, {**task, "tuning_size": 1})
    noisy_test = benchmark._noisy(utils, test_images, 0.5, 1)  # the benchmark's test noise
    scores = []
    for seed in task["seeds"]:
        keras.utils.set_random_seed(seed)
        model = utils.build_autoencoder()
        utils.train_denoiser(model, train_images, noise_level=0.5, epochs=2, batch_size=benchmark.BATCH_SIZE,
                             seed=seed, verbose=0)
        restored = model.predict(noisy_test, batch_size=500, verbose=0)
        scores.append(float(utils.psnr(test_images, restored).mean()))
        print(f"[seeds: oneDNN {'on' if hardware.onednn_enabled() else 'off'}, seed {seed}] PSNR {scores[-1]:.2f} dB",
              flush=True)
    return {"onednn": hardware.onednn_enabled(), "seeds": task["seeds"], "psnr": scores}


def longer_training(task):
    """Train the U-Net for many epochs; PSNR on validation images after each, on the test set at the end."""
    utils, _ = benchmark._start_worker()
    import keras

    (train_val_images, _), (test_images, _) = utils.load_mnist(task["mnist_path"], verbose=True)
    validation_size = min(5_000, len(train_val_images) // 10)
    train_images = train_val_images[:-validation_size][:task["train_size"]]
    validation_images = train_val_images[-validation_size:]
    test_images = test_images[:task["test_size"]]
    keras.utils.set_random_seed(benchmark.SEED)
    model = utils.build_unet()
    start = time.perf_counter()
    history = utils.train_denoiser(model, train_images, noise_level=0.5, epochs=task["epochs"],
                                   batch_size=benchmark.BATCH_SIZE,
                                   validation_data=(benchmark._noisy(utils, validation_images, 0.5, 2), validation_images),
                                   seed=benchmark.SEED, verbose=1)
    seconds = time.perf_counter() - start
    restored = model.predict(benchmark._noisy(utils, test_images, 0.5, 1), batch_size=500, verbose=0)
    return {"train_images": len(train_images), "validation_images": len(validation_images),
            "test_images": len(test_images), "validation_psnr": history.history["val_psnr"],
            "test_psnr": float(utils.psnr(test_images, restored).mean()), "training_minutes": seconds / 60}


def main(argv=None):
    arguments = parse_arguments(argv)
    base = {"mnist_path": arguments.mnist_path or os.environ.get("MNIST_PATH"), "train_size": arguments.train_size,
            "test_size": arguments.test_size}
    start = time.perf_counter()
    if arguments.probe == "seeds":
        runs = [benchmark.run_in_fresh_process(seed_spread, {**base, "onednn": onednn, "seeds": arguments.seeds,
                                                              "announce": not onednn})
                for onednn in (False, True)]
        off, on = runs
        result = {"probe": "seeds", "train_images": arguments.train_size, "epochs": 2, "runs": runs,
                  "difference_db": [b - a for a, b in zip(off["psnr"], on["psnr"])]}
        lines = [f"seed {seed}: {a:.2f} dB (oneDNN {'on' if off['onednn'] else 'off'}), "
                 f"{b:.2f} dB (oneDNN {'on' if on['onednn'] else 'off'}), difference {b - a:+.2f} dB"
                 for seed, a, b in zip(arguments.seeds, off["psnr"], on["psnr"])]
    else:
        result = {"probe": "epochs", "epochs": arguments.epochs,
                  **benchmark.run_in_fresh_process(longer_training, {**base, "epochs": arguments.epochs})}
        lines = [f"epoch {epoch}: validation PSNR {value:.2f} dB"
                 for epoch, value in enumerate(result["validation_psnr"], start=1)]
        epochs = f"{arguments.epochs} epoch{'s' if arguments.epochs != 1 else ''}"
        lines.append(f"test PSNR after {epochs} on {result['train_images']:,} images: "
                     f"{result['test_psnr']:.2f} dB ({result['training_minutes']:.1f} min of training)")
    result["wall_seconds"] = time.perf_counter() - start
    arguments.output_dir.mkdir(parents=True, exist_ok=True)
    path = arguments.output_dir / f"probe_{arguments.probe}.json"
    path.write_text(json.dumps(result, indent=1))
    print("\n".join(lines))
    print(f"Wrote {path.name} to {arguments.output_dir.name}/ in {result['wall_seconds'] / 60:.1f} min.")
    return result


if __name__ == "__main__":
    main()
