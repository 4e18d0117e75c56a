"""What the benchmark measures besides quality: the arithmetic, the CPU, and the switches that change speed.

The tutorial's notebook uses none of this; ``benchmarks/run.py`` does, to fill its training-speed table:

* ``count_flops``: the multiply-adds of a model, per image;
* ``cpu_peak_gflops``: the CPU's theoretical float32 peak, from Linux's ``/proc/cpuinfo``;
* ``onednn_enabled`` and ``onednn_on_by_default``: whether TensorFlow runs its CPU kernels through oneDNN;
* ``bfloat16_supported`` and ``set_precision``: Keras's mixed-bfloat16 policy, where the CPU computes it;
* ``array_batches``: a ``tf.data`` pipeline, one of the ways of feeding ``fit`` that the table compares.

Every function that reads ``/proc/cpuinfo`` also takes its text, so that tests can hand it any CPU, and
answers ``None`` or ``False`` (never an exception) where the file is missing or unfamiliar: on macOS,
Windows, or an ARM CPU.
"""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path

import keras
from keras import layers

import utils
from validation import check_model_fits

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"  # TensorFlow reads it once, when it starts: "1" on, "0" off
# Without the variable, TensorFlow turns oneDNN on only on Linux CPUs with one of these
# (tensorflow/core/util/port.cc, DefaultOneDnnPolicy).
ONEDNN_DEFAULT_FLAGS = {"avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"}


def read_cpuinfo():
    """Linux's description of the CPU, or None where there is none (macOS, Windows)."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return None


def cpu_flags(cpuinfo):
    """The instruction-set flags that /proc/cpuinfo lists (avx2, fma, avx512_bf16...); x86 calls them
    "flags", ARM "Features"."""
    return {flag for line in (cpuinfo or "").splitlines() if line.split(":")[0].strip() in ("flags", "Features")
            for flag in line.split(":", 1)[1].split()}


def cpu_peak_gflops(cpuinfo=None, cores=None):
    """The CPU's theoretical float32 peak: ``(GFLOP/s or None, how it was worked out)``.

    Peak = logical cores x clock x FLOPs per cycle and core: two fused multiply-add units, each with 8
    float32 lanes under AVX2 (32 FLOPs per cycle) or 16 under AVX-512 (64). The clock is the one Linux
    reports. Two logical cores may share one physical core, so treat it as an upper bound. ``None``
    where the clock or the vector instructions are unknown (no /proc/cpuinfo, or an ARM CPU).
    """
    cpuinfo = read_cpuinfo() if cpuinfo is None else cpuinfo
    cores = cores or os.cpu_count() or 1
    if not cpuinfo:
        return None, "unknown: no /proc/cpuinfo on this system"
    clocks = [float(line.split(":")[1]) for line in cpuinfo.splitlines() if line.startswith("cpu MHz")]
    flags = cpu_flags(cpuinfo)
    if "avx512f" in flags:
        per_cycle, isa = 64, "AVX-512: 2 FMA units x 16 float32 lanes x 2"
    elif {"avx2", "fma"} <= flags:
        per_cycle, isa = 32, "AVX2+FMA: 2 FMA units x 8 float32 lanes x 2"
    else:
        return None, "unknown: no clock or no known vector instructions in /proc/cpuinfo"
    if not clocks:
        return None, f"unknown: /proc/cpuinfo gives no clock ({isa})"
    clock = max(clocks) / 1000
    return cores * clock * per_cycle, f"{cores} logical cores x {clock:.2f} GHz x {per_cycle} FLOPs/cycle ({isa})"


def onednn_on_by_default(cpuinfo=None, system=None):
    """Whether TensorFlow would use oneDNN here without TF_ENABLE_ONEDNN_OPTS: only on Linux CPUs with
    AVX-512 VNNI or BF16, AVX-VNNI or AMX. Many laptop and AMD server CPUs have none of them."""
    if (system or platform.system()) != "Linux":
        return False
    return bool(cpu_flags(read_cpuinfo() if cpuinfo is None else cpuinfo) & ONEDNN_DEFAULT_FLAGS)


def onednn_enabled():
    """Whether TensorFlow runs its CPU kernels through oneDNN in this process (decided at its import)."""
    if keras.backend.backend() != "tensorflow":
        return False
    try:
        from tensorflow.python.util import _pywrap_util_port  # TensorFlow's own answer, a private module

        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):  # pragma: no cover - depends on the TensorFlow build
        setting = os.environ.get(ONEDNN_VARIABLE)
        return onednn_on_by_default() if setting is None else setting.strip().lower() in ("1", "true")


def bfloat16_supported(cpuinfo=None):
    """Whether the CPU computes bfloat16 natively (AVX-512 BF16 or AMX); elsewhere Keras emulates it, slowly."""
    return bool(cpu_flags(read_cpuinfo() if cpuinfo is None else cpuinfo) & {"avx512_bf16", "amx_bf16"})


def set_precision(mixed_bfloat16="auto", cpuinfo=None):
    """Set Keras's global policy for the models built next: ``"auto"`` picks mixed bfloat16 where the CPU
    computes it natively and float32 elsewhere; ``True`` or ``False`` force it. Returns the policy's name."""
    if mixed_bfloat16 not in ("auto", True, False):
        raise ValueError(f"mixed_bfloat16 must be 'auto', True or False, got {mixed_bfloat16!r}")
    use = bfloat16_supported(cpuinfo) if mixed_bfloat16 == "auto" else mixed_bfloat16
    policy = "mixed_bfloat16" if use else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def count_flops(model, image_shape=(28, 28, 1)):
    """Floating-point operations of one forward pass on one image: two per multiply-add of every
    convolution, transposed convolution and dense layer, nested models included (activations, pooling,
    biases and merges are a few percent at most, and left out). Training costs about three times this."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    check_model_fits(model, image_shape, f"model {model.name!r}", utils.model_stride(model))
    return _flops(model, tuple(image_shape))


def _flops(model, image_shape):
    # A copy with a fixed input size, so that every layer's output has concrete sides.
    fixed = keras.models.clone_model(model, input_tensors=keras.Input(shape=image_shape))
    flops = 0
    for layer in fixed.layers:
        if isinstance(layer, keras.Model):  # a nested model: count its layers at the size it is called with
            flops += _flops(layer, tuple(layer._inbound_nodes[-1].input_tensors[0].shape[1:]))
        elif isinstance(layer, layers.Conv2DTranspose):
            _, height, width, in_channels = layer.input.shape
            flops += 2 * height * width * in_channels * math.prod(layer.kernel_size) * layer.filters
        elif isinstance(layer, layers.Conv2D):
            _, height, width, out_channels = layer.output.shape
            flops += 2 * height * width * out_channels * math.prod(layer.kernel_size) * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            flops += 2 * math.prod(layer.input.shape[1:]) * layer.units
    return int(flops)


def array_batches(inputs, targets, *, batch_size, autotune=False):
    """A ``tf.data`` pipeline of (input, target) batches from in-memory arrays, in their order, two batches
    prepared ahead. ``autotune=False`` turns TensorFlow's autotuning off, as a variant to compare."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = autotune
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(batch_size)
    return dataset.prefetch(tf.data.AUTOTUNE if autotune else 2).with_options(options)
