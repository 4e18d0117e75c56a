"""The notebook's exercises as code: each one's hint and worked solution, read from its markdown cell, and
what each claims, as assertions that run in the notebook's kernel after them.

``tests/conftest.py`` appends these to nbval's run of the notebook, after its last cell, so they run in quick
mode on the notebook's own state. A hint's inline code must run there too: an expression is evaluated,
keyword arguments (``loss="mean_absolute_error"``) are checked as arguments, an import is executed.
"""

import ast
import re

# What each solution's text claims, checked after it runs. Names are the solution's own.
SOLUTION_CHECKS = {
    1: """
gains = exercise_1["gain (dB)"]
assert (gains > 0).all(), f"the autoencoder should beat the noisy input at every level: {gains}"
assert gains.idxmax() == 0.5, f"the largest gain should be at the training level 0.5: {gains}"
""",
    2: """
scores_by_epochs = exercise_2["validation PSNR (dB)"]
assert scores_by_epochs.iloc[1] > scores_by_epochs.iloc[0], f"more epochs should help: {scores_by_epochs}"
epoch_gains = np.diff(history["val_psnr"])
assert (np.diff(epoch_gains) < 0).all(), f"each epoch should add less than the one before: {epoch_gains}"
""",
    3: """
larger = exercise_3.iloc[1]
assert larger["steps"] < exercise_3.iloc[0]["steps"] / 3, exercise_3
assert exercise_3.iloc[0]["PSNR (dB)"] > larger["PSNR (dB)"] + 0.5, exercise_3
""",
    4: """
ratio = exercise_4["parameters"].iloc[1] / exercise_4["parameters"].iloc[0]
assert 0.2 < ratio < 0.3, f"half the channels should leave about a quarter of the parameters: {ratio}"
""",
    5: """
assert mse_restored.max() < 0.05, f"the MSE model should output black, brightest {mse_restored.max()}"
assert utils.psnr(test_images, mse_restored).mean() > noisy_psnr, "black should beat the noisy input"
assert black_psnr > noisy_psnr, (black_psnr, noisy_psnr)
""",
    6: """
assert big_restored.shape == (56, 56), big_restored.shape
assert abs(tiled_psnr - one_by_one_psnr) < 1.0, (tiled_psnr, one_by_one_psnr)
""",
    7: """
for wrong in (misread, misread_clean):  # the worst digits are hard to read, denoised or clean
    assert wrong[worst].mean() > 1.3 * wrong.mean(), (wrong[worst].mean(), wrong.mean())
assert set(changed) <= set(worst) and not misread_clean[changed].any() and misread[changed].all()
""",
    8: """
accuracy = np.trace(confusion) / confusion.sum()
expected = probe_table.loc["bottleneck of the noisy digits", "test accuracy"]
assert abs(accuracy - expected) < 1e-12, (accuracy, expected)
look_alike = [{4, 9}, {3, 5}, {5, 8}, {3, 8}]
assert any({a, b} in look_alike for _, a, b in pairs[:3]), pairs[:3]
""",
    9: """
assert difference < 1e-5, f"the resumed run should equal the uninterrupted one: {difference}"
""",
    10: """
ratio = wide_unet.count_params() / usual.count_params()
assert 3.5 < ratio < 4.5, f"twice the channels should give about four times the parameters: {ratio}"
""",
    11: """
assert exercise_11["validation PSNR (dB)"].idxmax() == "median", exercise_11
""",
    12: """
assert abs(black_after_noise.mean() - 0.1) < 0.01 and np.median(black_after_noise) == 0
cross_entropy, l1 = exercise_12.loc["binary_crossentropy"], exercise_12.loc["mean_absolute_error"]
assert abs(cross_entropy["mean background value"] - 0.1) < 0.04, exercise_12
assert l1["brightest pixel"] < 0.05, exercise_12
""",
    13: """
assert denoised_astronaut.shape == (512, 512, 3), denoised_astronaut.shape
assert colour_psnr["denoised"] > colour_psnr["noisy"] + 2.0, f"several dB, channel by channel: {colour_psnr}"
""",
    14: """
from_level_two = exercise_14[exercise_14.index.get_level_values("level") >= 0.2]
assert not from_level_two["median wins"].any(), exercise_14
""",
}

# What a hint says about the notebook's state, beyond its code running.
HINT_CHECKS = {
    2: 'assert len(history["val_psnr"]) == num_epochs, history["val_psnr"]',
    7: 'assert probes["clean pixels"].predict(test_images[:5].reshape(5, -1)).shape == (5,)',
    8: 'assert len(probe_inputs["bottleneck of the noisy digits"][1]) == len(test_labels)',
}

EXERCISE = re.compile(r"^### Exercise (\d+)\. ", re.MULTILINE)
HINT = re.compile(r"^\*Hint:\*(.*?)(?:\n\n|\Z)", re.MULTILINE | re.DOTALL)
SOLUTION = re.compile(r"<details><summary>Solution</summary>\s*```python\n(.*?)```", re.DOTALL)


def exercises(notebook):
    """``[(number, hint_spans, solution_code)]``: each cell tagged ``exercise`` (its title and hint), with the cell
    tagged ``solution`` that follows it (its worked solution, folded in a ``<details>`` block)."""
    found, cells = [], notebook["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown" or "exercise" not in cell.get("metadata", {}).get("tags", []):
            continue
        text = "".join(cell["source"])
        following = cells[index + 1] if index + 1 < len(cells) else {"metadata": {}, "source": []}
        assert "solution" in following.get("metadata", {}).get("tags", []), \
            f"an exercise must be followed by a cell tagged 'solution':\n{text}"
        number, hint = EXERCISE.search(text), HINT.search(text)
        solution = SOLUTION.search("".join(following["source"]))
        assert number and hint and solution, f"an exercise needs a title, a hint and a solution:\n{text}"
        found.append((int(number.group(1)), re.findall(r"`([^`]+)`", hint.group(1)), solution.group(1)))
    return found


def hint_code(spans):
    """The hint's inline code as lines that run: expressions, keyword arguments and imports."""
    lines = []
    for span in spans:
        try:
            ast.parse(span, mode="eval")
            lines.append(span)
            continue
        except SyntaxError:
            pass
        try:
            ast.parse(f"dict({span})", mode="eval")
            lines.append(f"dict({span})")
            continue
        except SyntaxError:
            pass
        try:
            statements = ast.parse(span).body
        except SyntaxError:
            statements = []
        if statements and all(isinstance(statement, (ast.Import, ast.ImportFrom)) for statement in statements):
            lines.append(span)
        else:
            lines.append(f"raise SyntaxError({'the hint code ' + repr(span) + ' cannot run'!r})")
    return "\n".join(lines)


def exercise_cells(notebook):
    """``[(name, source)]``: for each exercise, its hint and its solution, each followed by its checks."""
    cells = []
    for number, spans, solution in exercises(notebook):
        cells.append((f"exercise {number}: hint", hint_code(spans) + "\n" + HINT_CHECKS.get(number, "")))
        cells.append((f"exercise {number}: solution", solution + "\n" + SOLUTION_CHECKS[number]))
    return cells
