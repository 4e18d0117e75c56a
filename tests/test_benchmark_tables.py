"""benchmarks/README.md's tables are the committed results files', written by ``python benchmarks/tables.py``: a
changed figure in either, a block without its file or a file without its block fails."""

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks import tables

PAGE = tables.PAGE.read_text(encoding="utf-8")


def test_the_page_shows_every_results_file_as_it_holds_it():
    assert tables.blocks(PAGE), "benchmarks/README.md shows no generated block"
    assert tables.with_tables(PAGE) == PAGE, "run python benchmarks/tables.py"
    assert tables.unshown(PAGE) == []


def test_every_results_file_is_small_and_has_a_report():
    for path in sorted(tables.RESULTS.glob("*.json")):
        assert path.stat().st_size < 200_000, f"{path.name} is {path.stat().st_size:,} bytes: keep results small"
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data.get("report"), f"{path.name} has no report"


@pytest.fixture
def results_copy(tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(tables.RESULTS, folder)
    return folder


def test_a_changed_figure_in_a_results_file_fails(results_copy):
    """Break it on purpose: change one figure in a committed results file."""
    path = results_copy / "probe_spread.json"
    text = path.read_text(encoding="utf-8")
    assert "20.10 ± 0.14" in text
    path.write_text(text.replace("20.10 ± 0.14", "20.40 ± 0.14", 1), encoding="utf-8")
    assert tables.with_tables(PAGE, results_copy) != PAGE


def test_a_changed_figure_on_the_page_fails():
    assert tables.with_tables(PAGE.replace("20.10 ± 0.14", "20.40 ± 0.14", 1)) == PAGE != PAGE.replace(
        "20.10 ± 0.14", "20.40 ± 0.14", 1)


def test_a_missing_results_file_or_an_unshown_one_is_named(results_copy):
    (results_copy / "probe_budget.json").unlink()
    with pytest.raises(SystemExit, match="probe_budget.json, which does not exist"):
        tables.with_tables(PAGE, results_copy)
    (results_copy / "orphan.json").write_text('{"report": {"main": ["x"]}}', encoding="utf-8")
    assert "orphan.json" in tables.unshown(PAGE, results_copy)


def test_the_committed_results_name_no_machine_folder():
    """Model paths are written relative to the results folder; no file names the machine it ran on."""
    for path in sorted(tables.RESULTS.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'"(?:/|[A-Za-z]:\\\\)[^"]*(?:results|\.keras)', text), path.name


def test_relative_paths_keeps_other_strings(tmp_path):
    from benchmarks import run as benchmark

    result = {"rows": [{"model_path": str(tmp_path / "models" / "a.keras"), "label": "batch 8"}], "n": 3}
    assert benchmark.relative_paths(result, tmp_path) == {
        "rows": [{"model_path": str(Path("models") / "a.keras"), "label": "batch 8"}], "n": 3}
