"""
How well suggestions find an episode's people and terms, as if the show had no entries yet.

The demo's curated entries are the answer key. An entry "is named" by the
transcript when the linker finds one of its names or aliases there; it is
"found" when a suggestion's name, or a form of it seen in the text, is one of
its names or aliases (case, plurals and possessives aside). Precision is the
share of the top N suggestions that are some entry (of either kind).

    .venv/bin/python benchmarks/suggestion_benchmark.py            # episode 138, top 60
    .venv/bin/python benchmarks/suggestion_benchmark.py --top 40 --show-misses
    .venv/bin/python benchmarks/suggestion_benchmark.py --part first-half --top 30

Results: docs/suggestions-benchmark.md.
"""

import argparse
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from episodes.linker import Linker  # noqa: E402
from episodes.splitter import split_transcript  # noqa: E402
from suggestions.finder import Finder, normalise, singular_key  # noqa: E402

DEMO = ROOT / "episodes" / "demo"


def entries():
    """[(kind, name, [names and aliases])] of the demo's glossary and people."""
    found = []
    for kind, file in (("term", "terms.yaml"), ("person", "people.yaml")):
        for entry in yaml.safe_load((DEMO / file).read_text(encoding="utf-8")):
            names = [entry["name"], *(entry.get("aliases") or [])]
            if entry.get("full_name"):
                names.append(entry["full_name"])
            found.append((kind, entry["name"], names))
    return found


def named_entries(sentences, key):
    linker = Linker((alias, (kind, name)) for kind, name, names in key for alias in names)
    return {match.target for sentence in sentences for match in linker.find(sentence)}


def entry_of(candidate, index):
    """The (kind, name) entry a suggestion is, or None."""
    for form in [candidate.name, *candidate.forms]:
        for key in (normalise(form), singular_key(normalise(form))):
            if (hit := index.get(key)) is not None:
                return hit
    return None


def evaluate(sentences, key, top):
    index = {}
    for kind, name, names in key:
        for alias in names:
            index.setdefault(normalise(alias), (kind, name))
            index.setdefault(singular_key(normalise(alias)), (kind, name))
    named = named_entries(sentences, key)
    began = time.process_time()
    suggestions = Finder(sentences).find()
    seconds = time.process_time() - began
    hits = [entry_of(candidate, index) for candidate in suggestions]
    found_all = {hit for hit in hits if hit}
    found_top = {hit for hit in hits[:top] if hit}
    result = {"suggestions": len(suggestions), "cpu_seconds": seconds,
              "precision_top": sum(1 for hit in hits[:top] if hit) / min(top, len(hits) or 1)}
    for kind in ("person", "term"):
        wanted = {entry for entry in named if entry[0] == kind}
        result[f"{kind}_named"] = len(wanted)
        result[f"{kind}_recall"] = len(wanted & found_all) / (len(wanted) or 1)
        result[f"{kind}_recall_top"] = len(wanted & found_top) / (len(wanted) or 1)
        result[f"{kind}_missed"] = sorted(name for kind_, name in wanted - found_all if kind_ == kind)
    result["wrong_top"] = [c.name for c, hit in zip(suggestions[:top], hits[:top]) if not hit]
    result["top"] = [(c.name, c.kind, len(c.mentions), bool(hit)) for c, hit in zip(suggestions[:top], hits[:top])]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--transcript", type=Path, default=DEMO / "138-the-great-purges.txt")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--part", choices=["whole", "first-half", "second-half"], default="whole",
                        help="half the episode: text the rules were not tuned on as a whole")
    options = parser.parse_args()
    sentences = split_transcript(options.transcript.read_text(encoding="utf-8")).sentences
    middle = len(sentences) // 2
    sentences = {"whole": sentences, "first-half": sentences[:middle], "second-half": sentences[middle:]}[options.part]
    result = evaluate(sentences, entries(), options.top)
    print(f"{len(sentences)} sentences; {result['suggestions']} suggestions in {result['cpu_seconds'] * 1000:.0f} ms CPU")
    print(f"people named {result['person_named']}: recall {result['person_recall']:.2f} "
          f"(top {options.top}: {result['person_recall_top']:.2f})")
    print(f"terms named {result['term_named']}: recall {result['term_recall']:.2f} "
          f"(top {options.top}: {result['term_recall_top']:.2f})")
    print(f"precision of the top {options.top}: {result['precision_top']:.2f}")
    if options.show_misses:
        print("missed people:", result["person_missed"])
        print("missed terms:", result["term_missed"])
        print("top suggestions that are no entry:", result["wrong_top"])
        for name, kind, count, hit in result["top"]:
            print(f"  {'+' if hit else '-'} {name} ({kind}, {count})")


if __name__ == "__main__":
    main()
