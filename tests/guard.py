"""The claim guard: every comparison and every figure in the tutorial's text lies inside a registered claim.

It reads every sentence of the notebook's markdown, of ``README.md`` and of ``benchmarks/README.md``, questions and
lists and table rows included, and finds two kinds of token in each:

* **comparisons**: comparative and superlative forms (any word ending in -er or -est that is not on ``NOT_COMPARED``,
  the words of this text that only look like one: *filter*, *layer*, *test*), *more*, *less*, *fewer*, and the words
  that rank or relate two results: *leads*, *trails*, *ties*, *passes*, *beats*, *outperforms*, *exceeds*, *gains*,
  *drops*, *than*, *times*, *within*, *beyond*, *ahead*, *behind*, ...;
* **figures**: decimals, percentages, fractions, and integers with a unit (parameters, epochs, images, seconds,
  minutes, per cent, dB, ...), in prose, in inline code and in mathematics alike.

Each token must lie inside a registered claim's fragment (``tests/claims.py``), and that fragment must hold the
whole clause around the token: the span between the nearest ``;`` or ``:`` (or the sentence's ends). A wrong clause
appended to a registered sentence, or a reversed subject, is outside every fragment, and fails. The few sentences
that define or explain rather than report are waived, each with its reason (``WAIVERS`` in ``tests/claims.py``).

What is checked elsewhere is left out: fenced code (the tests run it), the generated blocks of
``benchmarks/README.md`` (``tests/test_benchmark_tables.py`` checks them against the results files), and README's
results table (``tests/test_readme.py`` checks it against the notebook's outputs).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "denoising_autoencoder.ipynb"
README = ROOT / "README.md"
BENCHMARKS = ROOT / "benchmarks" / "README.md"

# The words of these texts that end in -er or -est and compare nothing. A new word that ends so is a comparison
# until it is listed here: the guard errs towards asking.
NOT_COMPARED = frozenset((
    "after", "another", "answer", "either", "neither", "autoencoder", "autoencoders", "border", "browser", "chapter", "chapters",
    "christopher", "classifier", "conftest", "decoder", "denoiser", "denoisers", "differ", "encoder", "ever",
    "filter", "filters", "finger", "folder", "frontier", "gather", "helper", "helpers", "however", "inter",
    "jupyter", "later", "layer", "layers", "learner", "learners", "letter", "matter", "never", "number", "numbers",
    "optimizer", "order", "other", "others", "outlier", "outliers", "over", "paper", "pepper", "per", "pytest",
    "quarter", "rather", "reader", "recover", "ronneberger", "server", "slider", "teacher", "teachers", "test",
    "tests", "together", "under", "whatever", "wherever", "whether", "user", "users", "cluster", "clusters",
    "member", "members", "parameter", "parameters", "water", "power", "computer", "character", "answer", "answers",
    "corner", "corners", "center", "centre", "folder", "folders", "poster", "interest", "manifest", "suggest",
    "request", "latest", "rest", "honest", "forest", "digest", "contest", "harvest", "modest", "protest",
))
RANKING = (r"lead|leads|leading|led|trail|trails|trailed|trailing|beat|beats|beaten|beating|outperform\w*|outscor\w*|"
           r"outrank\w*|surpass\w*|exceed\w*|pass|passes|passed|passing|overtak\w*|overtook|tie|ties|tied|tying|"
           r"win|wins|winning|won|lose|loses|losing|lost|rank|ranks|ranked|ranking|improve|improves|improved|"
           r"improving|improvement|gain|gains|gained|gaining|drop|drops|dropped|dropping|rise|rises|rising|rose|"
           r"fall|falls|falling|fell|fallen|increase\w*|decrease\w*|double|doubles|doubled|halve|halves|halved|"
           r"halving|catch|catches|caught|ahead|behind|beyond|within|than|fold|twice|thrice|factor of \w+|"
           r"outweigh\w*|dominat\w*|trump\w*|edges? out|"
           r"(?:\d[\d.,]*|two|three|four|five|six|seven|eight|nine|ten|several|many|some) times")
COMPARATIVE = re.compile(
    r"\b(?:(?P<suffixed>[A-Za-z]+(?:er|est))|better|best|worse|worst|more|most|less|least|fewer|fewest|further|"
    + RANKING + r"|(?:well |just )?under (?:a |an |half |\d)|(?:dB|well|far|just|stays?|is|are|lies|scores?|"
    r"remains?) (?:above|below)|(?:above|below) (?:the|its|every|all|each) (?:noisy|best|tuned|filter|network|"
    r"baseline|input))\b", re.IGNORECASE)
UNITS = (r"parameters?|epochs?|images?|digits?|photos?|photographs?|seeds?|patches?|pixels?|seconds?|s|minutes?|min|"
         r"hours?|h|dB|MB|KB|kB|GB|steps?|channels?|layers?|filters?|cores?|words?|lines?|recipes?|candidates?|"
         r"models?|networks?|kinds?|levels?|exercises?|chapters?|cells?|times|per ?cent|GFLOP/s|img/s|images/s|"
         r"MFLOPs|FLOPs|classes|tests?|files?|items?|runs?|trainings?|%")
# A decimal, a fraction, a percentage, an integer grouped in thousands (60,000), or an integer with a unit, up to
# two words after it ("50 worst test images"), a batch size ("batches of 16") or a rate in e-notation (4e-3). Not a
# side of a size like 28×28: shapes are the architecture tests'.
# "part 2", "exercise 9" and "seed 42" are names, not figures.
FIGURE = re.compile(r"(?<![\w.×])(?<!part )(?<!Part )(?<!exercise )(?<!Exercise )(?<!seed )(?<!Seed )"
                    r"(?:\d[\d,]*\.\d+(?:\.\d+)*\s?%?|\d+/\d+|\d{1,3}(?:,\d{3})+|\d+(?:,\d{3})*(?:\s?%|"
                    r"(?=[\s-]?(?:[a-z]+\s){0,2}(?:" + UNITS + r")(?![\w])))|\d+(?:[½¼¾])|(?<=batch )\d+|"
                    r"(?<=batches of )\d+|(?<=Batches of )\d+|(?<=batch size of )\d+|\d+e-\d+)(?!×)")
CLAUSE_BREAK = re.compile(r"[;:](?=\s)|\s?\|\s?")  # a clause ends at ; or :, a table cell at |
LEAD = re.compile(r"^\s*(?:[-*]\s+|\d+\.\s+|#+\s+)?")  # a list item's or a heading's mark


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    kind: str  # "comparison" or "figure"
    text: str


def _prose(text):
    """Markdown as the guard reads it: fenced code, comments, HTML tags and link targets out; inline code, mathematics,
    emphasis and link texts in."""
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"<[^>]+>", " ", text)


def sentences(text):
    """The sentences of a markdown text: headings, list items and table rows stand alone."""
    found = []
    for block in re.split(r"\n\s*\n|\n(?=\s*[-*] |\s*\d+\. |#|\|)", _prose(text)):
        block = " ".join(block.split())
        found += [part for part in re.split(r"(?:(?<=[.!?:])|(?<=[.!?]\*))\s+(?=[A-Z*_(\[\"`$])", block) if part]
    return found


def tokens(sentence):
    """The comparisons and figures of a sentence, in order."""
    found = [Token(match.start(), match.end(), "comparison", match.group(0))
             for match in COMPARATIVE.finditer(sentence)
             if not (match.group("suffixed") and match.group("suffixed").lower() in NOT_COMPARED)]
    found += [Token(match.start(), match.end(), "figure", match.group(0).strip())
              for match in FIGURE.finditer(sentence)]
    return sorted(found, key=lambda token: token.start)


def clause(sentence, token):
    """The span of the clause that holds a token: up to the nearest ``;``, ``:`` or table-cell border on either
    side, without a list item's mark before it or the sentence's full stop after it."""
    start = max([match.end() for match in CLAUSE_BREAK.finditer(sentence, 0, token.start)], default=0)
    following = CLAUSE_BREAK.search(sentence, token.end)
    end = following.start() if following else len(sentence)
    start += LEAD.match(sentence[start:end]).end()
    while end > token.end and sentence[end - 1] in " .!?":
        end -= 1
    return start, end


# ---------------------------------------------------------------- the texts


def _notebook_texts(cells):
    return [("notebook", f"notebook cell {index}", "".join(cell["source"])) for index, cell in enumerate(cells)
            if cell["cell_type"] == "markdown"]


def _readme_texts(text):
    """README without its results table, which tests/test_readme.py checks against the notebook's outputs."""
    results = text.split("\n## Results\n", 1)
    if len(results) == 2:
        head, rest = results
        body, _, tail = rest.partition("\n## ")
        body = "\n".join(line for line in body.splitlines() if not line.startswith("|"))
        text = f"{head}\n## Results\n{body}\n## {tail}" if tail else f"{head}\n## Results\n{body}"
    return [("README", "README.md", text)]


def _benchmark_texts(text):
    """benchmarks/README.md without its generated blocks, which tests/test_benchmark_tables.py checks."""
    text = re.sub(r"<!-- generated from results/.*?<!-- end of results/[^>]*-->", " ", text, flags=re.DOTALL)
    return [("benchmarks", "benchmarks/README.md", text)]


def texts(cells=None, readme=None, benchmarks=None):
    """``[(where, place, text)]``: every text the guard reads. Arguments replace the committed files (the negative
    tests plant sentences in them)."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"] if cells is None else cells
    readme = README.read_text(encoding="utf-8") if readme is None else readme
    benchmarks = BENCHMARKS.read_text(encoding="utf-8") if benchmarks is None else benchmarks
    return _notebook_texts(cells) + _readme_texts(readme) + _benchmark_texts(benchmarks)


# ---------------------------------------------------------------- the guard


def covering(sentence, fragments):
    """The spans of ``sentence`` that registered fragments cover: ``[(start, end, fragment)]``."""
    spans = []
    for fragment in fragments:
        start = sentence.find(fragment)
        while start != -1:
            spans.append((start, start + len(fragment), fragment))
            start = sentence.find(fragment, start + 1)
    return spans


def uncovered(all_texts, claims, waivers):
    """Each token that no claim or waiver covers with its whole clause; each claim or waiver that covers nothing.
    ``claims`` and ``waivers`` are ``(where, fragment)`` pairs; returns ``(problems, used fragments, counts)``."""
    problems, used, counts = [], set(), {}
    for where, place, text in all_texts:
        fragments = [fragment for kind, fragment in claims + waivers if kind == where]
        count = counts.setdefault(where, {"sentences": 0, "with a comparison or a figure": 0, "covered by a claim": 0,
                                          "waived": 0})
        claimed = {fragment for kind, fragment in claims if kind == where}
        for sentence in sentences(text):
            count["sentences"] += 1
            spans = covering(sentence, fragments)
            used.update((where, fragment) for _, _, fragment in spans)
            found = tokens(sentence)
            if not found:
                continue
            count["with a comparison or a figure"] += 1
            count["covered by a claim" if any(fragment in claimed for *_, fragment in spans) else "waived"] += bool(spans)
            for token in found:
                low, high = clause(sentence, token)
                if not any(start <= low and high <= end for start, end, _ in spans):
                    problems.append(f"{place}: the {token.kind} {token.text!r} lies in no registered claim that holds "
                                    f"its clause {sentence[low:high].strip()!r}")
    stale = [f"{where}: the registered fragment {fragment!r} is no longer in the text"
             for where, fragment in claims + waivers if (where, fragment) not in used]
    return problems + stale, used, counts


def printed_comparisons(cells=None):
    """The sentences that the notebook's cells print with a comparison in them: the verdicts that depend on the
    reader's own run, which the markdown explains rather than states."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"] if cells is None else cells
    printed = ["".join(output.get("text", "")) for cell in cells if cell["cell_type"] == "code"
               for output in cell.get("outputs", []) if output.get("output_type") == "stream"]
    return sum(any(token.kind == "comparison" for token in tokens(sentence))
               for text in printed for line in text.splitlines() for sentence in sentences(line))


def main():
    """Print the guard's counts for each text, and the waivers: ``python tests/guard.py``."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from claims import CLAIMS, WAIVERS

    problems, _, counts = uncovered(texts(), [(c.where, c.fragment) for c in CLAIMS],
                                    [(w.where, w.fragment) for w in WAIVERS])
    counts["notebook"]["printed by cells, with a comparison"] = printed_comparisons()
    names = list(dict.fromkeys(name for count in counts.values() for name in count))
    print("| text | " + " | ".join(names) + " |\n|---|" + "---:|" * len(names))
    for where, count in counts.items():
        print(f"| {where} | " + " | ".join(str(count.get(name, "")) for name in names) + " |")
    print("\nWaivers:")
    for waiver in WAIVERS:
        print(f"- {waiver.where}: {waiver.fragment!r} ({waiver.why})")
    print(f"\n{len(problems)} problem(s)" + "".join(f"\n  {problem}" for problem in problems))


if __name__ == "__main__":
    main()
