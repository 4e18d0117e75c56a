"""README's results table is the committed notebook's, so a rerun of the notebook cannot leave README behind unnoticed.
The figures and comparisons of its Results prose are claims, checked by tests/test_prose.py."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"(?<![\d.,])\d+(?:,\d{3})*(?:\.\d+)?(?![\d.]*\d)"
# The start of each method's name in the notebook's table, and a word README uses for it.
README_WORDS = {"noisy input": "noisy input", "wavelet": "wavelet", "gaussian_blur": "Gaussian blur",
                "total_variation": "total variation", "nl_means": "non-local means", "median": "median",
                "keras.io baseline": "keras.io", "residual": "residual", "our autoencoder": "autoencoder",
                "U-Net": "U-Net"}


def notebook_cells():
    return json.loads((ROOT / "denoising_autoencoder.ipynb").read_text(encoding="utf-8"))["cells"]


def output_text(cell):
    parts = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", "")))
        parts += ["".join(value) for key, value in output.get("data", {}).items() if key.startswith("text/")]
    return "\n".join(parts)


def output_of(tag):
    """The printed output of the one code cell with this tag."""
    (cell,) = [cell for cell in notebook_cells() if tag in cell.get("metadata", {}).get("tags", [])]
    return output_text(cell)


def results_section():
    return (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Results\n")[1].split("\n## ")[0]


def readme_table():
    """README's results table as {name, parameters, seconds, psnr, ssim} rows, in order."""
    lines = [line for line in results_section().splitlines() if line.startswith("|")][2:]  # no header, rule
    rows = []
    for line in lines:
        name, parameters, seconds, psnr, ssim = (cell.replace("**", "").strip() for cell in line.strip("|").split("|"))
        rows.append({"name": name, "parameters": parameters.replace(",", ""), "seconds": seconds, "psnr": psnr,
                     "ssim": ssim})
    return rows


def notebook_rows(tag, pattern):
    """(method, PSNR, SSIM) of each row that the cell tagged ``tag`` printed in its table."""
    return re.findall(pattern, output_of(tag), re.MULTILINE)


def test_the_results_table_is_the_notebooks_comparison_and_model_tables():
    """The noisy input and the filters from the filters chapter's table, the networks from the architectures
    chapter's, in README's order: by PSNR."""
    filters = [row for row in notebook_rows("comparison-table", r"^(.+?)\s+(?:none|classical|learned)\s+([\d.]+)\s+"
                                                                r"([\d.]+)\s+\S+$") if row[0] != "our autoencoder"]
    networks = notebook_rows("model-table", r"^(\S.+?)\s+\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s+([\d.]+)$")
    rows = sorted(filters + networks, key=lambda row: float(row[1]))
    readme_rows = readme_table()
    assert len(readme_rows) == len(rows) == 10, (len(filters), len(networks))
    for readme, (method, psnr, ssim) in zip(readme_rows, rows, strict=True):
        word = next(README_WORDS[start] for start in README_WORDS if method.startswith(start))
        assert word in readme["name"], f"README's row {readme['name']!r} should be the notebook's {method!r}"
        for strength in re.findall(r"\(\w+ ([\d.]+)\)", method):  # the tuned filter's strength
            assert strength in readme["name"], f"README's row {readme['name']!r}: strength is {strength}"
        assert (readme["psnr"], readme["ssim"]) == (f"{float(psnr):.2f}", f"{float(ssim):.3f}"), readme["name"]


def test_the_networks_sizes_and_seconds_per_epoch_are_the_notebooks():
    printed = output_of("model-table")
    # The first block of the printed table: name, parameters, seconds per epoch, training images/s.
    seconds_by_parameters = {parameters: seconds for parameters, seconds in
                             re.findall(r"^.+?\s+(\d+)\s+([\d.]+)\s+[\d.]+(?:\s|$)", printed, re.MULTILINE)}
    networks = [row for row in readme_table() if row["parameters"]]
    assert len(networks) == len(seconds_by_parameters) == 4
    for row in networks:
        assert row["parameters"] in seconds_by_parameters, f"{row['name']}: no network of {row['parameters']}"
        assert row["seconds"] == f"{float(seconds_by_parameters[row['parameters']]):.0f}", row["name"]


def test_the_timed_commands_are_readmes_own():
    """benchmarks/readme_commands.py times the commands of README's quick-start table, as README writes them."""
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks.readme_commands import readme_commands

    commands = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert [command.split()[0] for command, _ in commands] == ["pip", "jupyter", "pytest"]
    assert all(when.startswith("about") for _, when in commands)
