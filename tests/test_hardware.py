"""Tests for benchmarks/hardware.py: FLOP counts, the CPU's peak, oneDNN, bfloat16 and the tf.data pipeline.

The CPU helpers get fake /proc/cpuinfo text, so the tests check the arithmetic and the flags, not this machine.
"""

import os
import platform
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks import hardware

import utils

AVX2_EPYC = "processor\t: 0\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2450.000\nflags\t\t: fpu sse2 avx avx2 fma\n"
AVX512_XEON = ("processor\t: 0\ncpu MHz\t\t: 1900.000\nflags\t\t: sse2 avx avx2 fma avx512f avx512_vnni avx512_bf16\n"
               "processor\t: 1\ncpu MHz\t\t: 3100.000\nflags\t\t: sse2 avx avx2 fma avx512f avx512_vnni avx512_bf16\n")
SKYLAKE_AVX512 = "processor\t: 0\ncpu MHz\t\t: 2000.000\nflags\t\t: sse2 avx avx2 fma avx512f avx512bw avx512vl\n"
ARM_GRAVITON = "processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes sha1 sve bf16\nCPU part\t: 0xd40\n"


@pytest.mark.parametrize(("cpuinfo", "cores", "peak", "how"), [
    (AVX2_EPYC, 2, 2 * 2.45 * 32, "2 logical cores x 2.45 GHz x 32 FLOPs/cycle (AVX2+FMA"),
    (AVX512_XEON, 4, 4 * 3.1 * 64, "4 logical cores x 3.10 GHz x 64 FLOPs/cycle (AVX-512"),  # the fastest clock
    (ARM_GRAVITON, 2, None, "unknown: no clock or no known vector instructions"),
    ("", 2, None, "unknown: no /proc/cpuinfo"),
    ("flags\t: avx2 fma\n", 2, None, "unknown: /proc/cpuinfo gives no clock"),
])
def test_cpu_peak_from_cores_clock_and_vector_width(cpuinfo, cores, peak, how):
    value, explanation = hardware.cpu_peak_gflops(cpuinfo, cores=cores)
    assert value == (None if peak is None else pytest.approx(peak))
    assert explanation.startswith(how)


def test_cpu_flags_read_x86_and_arm_lines():
    assert {"avx2", "fma"} <= hardware.cpu_flags(AVX2_EPYC)
    assert {"sve", "bf16"} <= hardware.cpu_flags(ARM_GRAVITON)
    assert hardware.cpu_flags(None) == set()


def test_onednn_default_depends_on_the_cpu_flags_and_the_system():
    assert not hardware.onednn_on_by_default(AVX2_EPYC, system="Linux")
    assert hardware.onednn_on_by_default(AVX512_XEON, system="Linux")
    assert not hardware.onednn_on_by_default(AVX512_XEON, system="Darwin")  # only Linux checks the flags
    assert not hardware.onednn_on_by_default("", system="Linux")


def test_bfloat16_and_the_precision_it_chooses():
    assert not hardware.bfloat16_supported(AVX2_EPYC) and hardware.bfloat16_supported(AVX512_XEON)
    assert not hardware.bfloat16_supported(SKYLAKE_AVX512)  # AVX-512 without its BF16 extension: emulated
    assert not hardware.bfloat16_supported(ARM_GRAVITON)  # ARM's bf16 is not what the x86 check looks for
    try:
        assert hardware.set_precision("auto", cpuinfo=AVX2_EPYC) == "float32"
        assert hardware.set_precision("auto", cpuinfo=SKYLAKE_AVX512) == "float32"
        assert keras.mixed_precision.global_policy().name == "float32"
        assert hardware.set_precision("auto", cpuinfo=AVX512_XEON) == "mixed_bfloat16"
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        model = utils.build_autoencoder((28, 28, 1), filters=(4, 8, 8))
        assert model.get_layer("encoder_full").compute_dtype == "bfloat16"
        assert hardware.set_precision(False, cpuinfo=AVX512_XEON) == "float32"
        with pytest.raises(ValueError, match="mixed_bfloat16 must be 'auto', True or False"):
            hardware.set_precision("yes")
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_the_helpers_answer_without_proc_cpuinfo(monkeypatch):
    # macOS and Windows have no /proc/cpuinfo: every helper answers instead of raising.
    monkeypatch.setattr(hardware, "read_cpuinfo", lambda: None)
    assert hardware.cpu_peak_gflops() == (None, "unknown: no /proc/cpuinfo on this system")
    assert not hardware.bfloat16_supported() and not hardware.onednn_on_by_default()


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="oneDNN is TensorFlow's switch")
@pytest.mark.parametrize("setting", ["0", "1"])
def test_onednn_follows_the_variable_read_at_start_up(setting):
    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("TensorFlow's oneDNN switch applies to x86 builds")
    # TensorFlow reads the variable once, when it starts, so each setting needs its own process.
    code = "from benchmarks import hardware; print(hardware.onednn_enabled())"
    environment = {**os.environ, hardware.ONEDNN_VARIABLE: setting}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=300, check=True)
    assert result.stdout.strip().splitlines()[-1] == str(setting == "1")


def test_count_flops_matches_a_hand_count():
    inputs = keras.Input((None, None, 1))
    features = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 8x8 x 4 outputs x 3*3*1 weights
    features = keras.layers.Conv2D(2, 3, strides=2, padding="same")(features)  # 4x4 x 2 x 3*3*4
    features = keras.layers.Conv2DTranspose(3, 2, strides=2)(features)  # 4x4 inputs x 2 channels x 2*2*3
    outputs = keras.layers.Conv2D(1, 1)(features)  # 8x8 x 1 x 1*1*3
    model = keras.Model(inputs, outputs)
    expected = 2 * (8 * 8 * 4 * 9 * 1 + 4 * 4 * 2 * 9 * 4 + 4 * 4 * 2 * 4 * 3 + 8 * 8 * 1 * 3)
    assert hardware.count_flops(model, image_shape=(8, 8, 1)) == expected
    # Doubling each side quadruples the work of a fully convolutional model.
    assert hardware.count_flops(model, image_shape=(16, 16, 1)) == 4 * expected
    # The same layers inside a nested model count the same (they used to count 0).
    wrapped_inputs = keras.Input((None, None, 1))
    wrapped = keras.Model(wrapped_inputs, model(wrapped_inputs))
    assert hardware.count_flops(wrapped, image_shape=(8, 8, 1)) == expected


def test_count_flops_of_the_tutorial_models():
    flops = {builder.__name__: hardware.count_flops(builder()) for builder in (
        utils.build_baseline_autoencoder, utils.build_autoencoder, utils.build_unet, utils.build_residual_denoiser)}
    # Worked out by hand for the autoencoder: 23.7 million FLOPs per 28x28 image.
    assert flops["build_autoencoder"] == 23_733_248
    assert flops["build_baseline_autoencoder"] < flops["build_residual_denoiser"] < flops["build_autoencoder"]
    assert flops["build_autoencoder"] < flops["build_unet"]
    with pytest.raises(TypeError, match="keras.Model"):
        hardware.count_flops("model")
    with pytest.raises(ValueError, match="cannot denoise images of shape"):
        hardware.count_flops(utils.build_autoencoder((32, 32, 1)))


@pytest.mark.parametrize("autotune", [False, True])
def test_array_batches_keep_order_and_sizes(autotune):
    pytest.importorskip("tensorflow", reason="a tf.data pipeline needs TensorFlow, under any backend")
    inputs = np.arange(10 * 4, dtype=np.float32).reshape(10, 2, 2, 1)
    batches = list(hardware.array_batches(inputs, inputs + 1, batch_size=4, autotune=autotune).as_numpy_iterator())
    assert [len(batch_inputs) for batch_inputs, _ in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([batch_inputs for batch_inputs, _ in batches]), inputs)
    np.testing.assert_array_equal(np.concatenate([targets for _, targets in batches]), inputs + 1)
