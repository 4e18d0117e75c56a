"""The classroom kit: the students' copy that TEACHING.md's command writes, the students' bundle, and the guide's
minutes and lessons."""

import copy
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "teaching"))
sys.path.insert(0, str(ROOT / "tests"))

import bundle
import minutes
from exercises import EXERCISE, HINT, SOLUTION

NOTEBOOK = ROOT / "denoising_autoencoder.ipynb"
GUIDE = ROOT / "TEACHING.md"


def student_command(guide_text):
    """The nbconvert command of TEACHING.md's "students' copy" step, as arguments."""
    block = re.search(r"```bash\n\s*(jupyter nbconvert .*?)\s*```", guide_text, re.DOTALL)
    assert block, "TEACHING.md should give the nbconvert command that writes the students' copy"
    return shlex.split(block.group(1).replace("\\\n", " "))


def make_copy(folder, *extra):
    """Run TEACHING.md's command on a copy of the notebook in ``folder``; return the students' notebook."""
    (folder / NOTEBOOK.name).write_bytes(NOTEBOOK.read_bytes())
    command = student_command(GUIDE.read_text(encoding="utf-8")) + list(extra)
    command[0:1] = [sys.executable, "-m", "jupyter"]
    subprocess.run(command, cwd=folder, check=True, capture_output=True, timeout=120)
    written = folder / "denoising_autoencoder_student.ipynb"
    assert written.exists(), f"the command should write {written.name}"
    return nbformat.read(written, as_version=4)


def copy_problems(teacher, student):
    """What is wrong with ``student`` as a copy of ``teacher`` without solutions: a list of sentences."""
    problems = []
    solutions = [SOLUTION.search("".join(cell.source)) for cell in teacher.cells
                 if "solution" in cell.metadata.get("tags", [])]
    if not solutions or not all(solutions):
        problems.append("the teacher's notebook should have solution cells, each with its code")
    text = "\n".join("".join(cell.source) for cell in student.cells)
    for cell in student.cells:
        if "solution" in cell.metadata.get("tags", []):
            problems.append(f"a cell tagged 'solution' is left: {''.join(cell.source)[:80]!r}")
    if "<summary>Solution</summary>" in text:
        problems.append("a worked solution's <details> block is left")
    elsewhere = "\n".join("".join(cell.source) for cell in teacher.cells if "solution" not in cell.metadata.get("tags", []))
    for found in filter(None, solutions):
        # A solution's longest line that no other cell has is specific to it: if it is in the copy, the solution is.
        own = [line.strip() for line in found.group(1).splitlines() if line.strip() and line.strip() not in elsewhere]
        line = max(own, key=len, default="")
        if line and line in text:
            problems.append(f"solution text is left: {line!r}")
    teacher_exercises = ["".join(cell.source) for cell in teacher.cells
                         if "exercise" in cell.metadata.get("tags", [])]
    student_exercises = ["".join(cell.source) for cell in student.cells
                         if "exercise" in cell.metadata.get("tags", [])]
    if student_exercises != teacher_exercises:
        problems.append(f"the copy has {len(student_exercises)} exercises, the notebook {len(teacher_exercises)}, "
                        "or their text differs")
    for exercise in student_exercises:
        if not (EXERCISE.search(exercise) and HINT.search(exercise)):
            problems.append(f"an exercise lost its title or hint: {exercise[:80]!r}")
    kept = [cell for cell in teacher.cells if "solution" not in cell.metadata.get("tags", [])]
    if ["".join(cell.source) for cell in kept] != ["".join(cell.source) for cell in student.cells]:
        problems.append("the copy should keep every other cell, in order")
    return problems


@pytest.fixture(scope="module")
def teacher():
    return nbformat.read(NOTEBOOK, as_version=4)


def test_students_copy_has_no_solutions_and_every_exercise(tmp_path, teacher):
    student = make_copy(tmp_path)
    nbformat.validate(student)
    assert copy_problems(teacher, student) == []
    assert any(cell.get("outputs") for cell in student.cells if cell.cell_type == "code"), \
        "without the clearing option, the copy keeps the outputs"


def test_students_copy_with_outputs_cleared(tmp_path, teacher):
    student = make_copy(tmp_path, "--ClearOutputPreprocessor.enabled=True")
    nbformat.validate(student)
    assert copy_problems(teacher, student) == []
    assert not any(cell.get("outputs") for cell in student.cells if cell.cell_type == "code")


def test_the_checker_finds_a_solution_left_in(teacher):
    """A solution whose cell lost its tag, or pasted into an exercise, is found."""
    untagged = copy.deepcopy(teacher)
    cell = next(cell for cell in untagged.cells if "solution" in cell.metadata.get("tags", []))
    cell.metadata["tags"].remove("solution")
    student = copy.deepcopy(untagged)
    student.cells = [c for c in student.cells if "solution" not in c.metadata.get("tags", [])]
    assert any("solution text is left" in problem for problem in copy_problems(teacher, student))


def test_guide_minutes_are_the_notebooks():
    guide = GUIDE.read_text(encoding="utf-8")
    assert minutes.with_tables(guide, nbformat.read(NOTEBOOK, as_version=4)) == guide, \
        "TEACHING.md's minutes differ from the committed notebook's: run python teaching/minutes.py"


def test_guide_minutes_follow_the_timestamps(teacher):
    """A cell that ran a minute longer changes the guide's tables: the check cannot pass on stale minutes."""
    guide = GUIDE.read_text(encoding="utf-8")
    slower = copy.deepcopy(teacher)
    cell = next(cell for cell in slower.cells if minutes.seconds_of(cell) > 1)
    timing = cell.metadata["execution"]
    stamp = minutes.datetime.datetime.fromisoformat(timing["shell.execute_reply"])
    timing["shell.execute_reply"] = (stamp + minutes.datetime.timedelta(minutes=3)).isoformat()
    assert minutes.with_tables(guide, slower) != guide


def test_every_exercise_has_a_measured_time(teacher):
    times = minutes.exercise_times(teacher)
    assert len(times) >= 10, times
    assert all(seconds is not None and seconds >= 0 for *_, seconds in times), times


@pytest.mark.parametrize("lesson", list(minutes.LESSONS))
def test_each_lesson_leaves_ten_minutes_for_questions_the_demo_and_an_exercise(teacher, lesson):
    """Every section a lesson lists is in the notebook, once, and the taught minutes leave the slack."""
    rows = minutes.lesson_sections(teacher, lesson)
    assert [row[0] for row in rows] == [title for start in minutes.LESSONS[lesson]["sections"]
                                        for title, *_ in minutes.sections(teacher) if minutes.in_path(title, start)]
    assert len(rows) == len(minutes.LESSONS[lesson]["sections"]), [row[0] for row in rows]
    *taught, (_, what, slack) = minutes.timeline(teacher, lesson)
    assert what.startswith("slack")
    assert slack >= minutes.SLACK_MINUTES, f"the {lesson} lesson leaves {slack:.1f} minutes"
    assert sum(1 for row in taught if row[1] == "check question") == len(minutes.LESSONS[lesson]["checks"])


def test_the_lessons_minutes_count_the_class_run_and_the_check_questions(teacher):
    """A cell that runs a minute longer in class, or one more check question, takes that much slack away."""
    lesson = "45 minutes"
    slack = minutes.timeline(teacher, lesson)[-1][2]
    slower = copy.deepcopy(teacher)
    training = next(cell for cell in slower.cells if "autoencoder-training" in cell.metadata.get("tags", []))
    slower.metadata.setdefault("teaching", {}).setdefault("prepared_cell_seconds", {})[training.id] = \
        minutes.prepared_seconds(teacher).get(training.id, minutes.seconds_of(training)) + 60
    assert minutes.timeline(slower, lesson)[-1][2] == pytest.approx(slack - 1)


def test_an_exercise_that_needs_a_chapter_is_homework_in_a_lesson_without_it(teacher):
    needs = minutes.exercise_needs(teacher)
    assert needs[1] == [] and any(needs.values())
    table = minutes.tables(teacher)["exercises"]
    for number, chapters_needed in needs.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| {number}. "))
        if chapters_needed and not any(minutes.in_path(chapter, start) for chapter in chapters_needed
                                       for start in minutes.LESSONS["45 minutes"]["sections"]):
            assert row.split("|")[5].strip() == "homework", row


def fake_models(folder):
    """A default run's models folder, with placeholder files where part 2's models go."""
    folder.mkdir(parents=True)
    for name in ("keras_io", "unet", "residual", "photo_unet", "experiment gaussian 0.5",
                 "noise2noise clean targets", "autoencoder", "resume_exercise"):
        (folder / f"{name}.keras").write_bytes(b"model")
    (folder / "unet.partial.keras").write_bytes(b"half-written")
    return folder


def test_the_bundle_holds_the_students_copy_the_helpers_and_part_2s_models(tmp_path, teacher):
    import zipfile

    models = fake_models(tmp_path / "models" / "gaussian_0.5_6000_images")
    archive = bundle.make_bundle(tmp_path / "students.zip", models=models)
    with zipfile.ZipFile(archive) as unpacked:
        names = set(unpacked.namelist())
        student = nbformat.reads(unpacked.read(bundle.STUDENT_NOTEBOOK).decode(), as_version=4)
    assert {"utils.py", "validation.py", "demo.py", "requirements.txt", "README.md"} <= names
    saved = {name.split("/")[-1] for name in names if name.startswith("models/gaussian_0.5_6000_images/")}
    assert saved == {"keras_io.keras", "unet.keras", "residual.keras", "photo_unet.keras",
                     "experiment gaussian 0.5.keras", "noise2noise clean targets.keras"}
    assert copy_problems(teacher, student) == ["the copy should keep every other cell, in order"]  # one line changed
    parameters = next(cell for cell in student.cells if "parameters" in cell.metadata.get("tags", []))
    assert "REUSE_SAVED_MODELS = True" in parameters.source
    assert not any(cell.get("outputs") for cell in student.cells if cell.cell_type == "code")


def test_the_bundle_says_what_to_do_without_a_run(tmp_path):
    with pytest.raises(SystemExit, match="run the notebook once in default mode"):
        bundle.make_bundle(tmp_path / "students.zip", models=tmp_path / "models" / "nothing")
    models = fake_models(tmp_path / "models" / "gaussian_0.5_6000_images")
    (models / "photo_unet.keras").unlink()
    with pytest.raises(SystemExit, match="has no photo_unet.keras"):
        bundle.make_bundle(tmp_path / "students.zip", models=models)
