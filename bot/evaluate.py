"""Retrieval quality on a question set: Recall@1, MRR@3 and abstention, per language.

A question set is JSON lines `{"q": ..., "gold": [phrases], "lang": "de"|"en"}`; a correct top
passage contains one of the gold phrases; an empty gold list marks a question the news does not
answer, where the right reply is no answer at all. Without "lang", the language is detected as
the engine detects it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import NewsbotError
from bot.language.english import detect_language
from bot.search.engine import Engine


@dataclass
class Tally:
    """Counts for one language."""

    answerable: int = 0
    hits_at_1: int = 0
    ranked_first: int = 0  # the top passage right had newsbot not abstained
    reciprocal_ranks: float = 0.0
    off_topic: int = 0
    abstained: int = 0
    misses: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        """The figures we report."""
        return {
            "answerable": self.answerable,
            "recall@1": self.hits_at_1 / self.answerable if self.answerable else 0.0,
            "ranked@1": self.ranked_first / self.answerable if self.answerable else 0.0,
            "mrr@3": self.reciprocal_ranks / self.answerable if self.answerable else 0.0,
            "off_topic": self.off_topic,
            "abstention": self.abstained / self.off_topic if self.off_topic else 0.0,
        }


def read_questions(path: Path) -> list[dict]:
    """Read and check a question set; a broken line is an error naming the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise NewsbotError(f"cannot read question set {path}: {exc}") from exc
    questions = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item.get("q"), str) or not isinstance(item.get("gold"), list):
                raise ValueError("needs a string 'q' and a list 'gold'")
        except (ValueError, AttributeError) as exc:
            raise NewsbotError(f"{path}:{number}: not a question line ({exc})") from None
        item.setdefault("lang", detect_language(item["q"]))
        questions.append(item)
    return questions


def evaluate(engine: Engine, questions: list[dict]) -> dict[str, Tally]:
    """Ask every question and tally the results per language (and 'all')."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for item in questions:
        answers = engine.ask(item["q"], k=3)
        first = engine.ask(item["q"], k=1, abstain=False).hits if item["gold"] else []
        for key in (item.get("lang") or detect_language(item["q"]), "all"):
            tally = tallies[key]
            if not item["gold"]:
                tally.off_topic += 1
                tally.abstained += not answers.found
                if answers.found and key == "all":
                    tally.misses.append(f"answered off-topic: {item['q']!r}")
                continue
            tally.answerable += 1
            rank = next(
                (
                    r
                    for r, hit in enumerate(answers.hits, 1)
                    if any(g in hit.passage.text for g in item["gold"])
                ),
                None,
            )
            tally.hits_at_1 += rank == 1
            tally.ranked_first += bool(first) and any(g in first[0].passage.text
                                                      for g in item["gold"])
            tally.reciprocal_ranks += 1 / rank if rank else 0.0
            if key != "all" or rank == 1:
                continue
            if rank:
                tally.misses.append(f"ranked {rank}: {item['q']!r}")
            else:
                got = answers.hits[0].passage.text[:70] if answers.found else "no answer"
                tally.misses.append(f"missed: {item['q']!r} -> {got!r}")
    return dict(tallies)


def report(tallies: dict[str, Tally], show_misses: bool = True) -> str:
    """A small table plus the misses."""
    lines = [f"{'lang':<5} {'n':>4} {'R@1':>6} {'MRR@3':>6} {'off':>4} {'abstain':>7} "
             f"{'ranked@1':>8}"]
    for lang in sorted(tallies, key=lambda k: (k == "all", k)):
        s = tallies[lang].summary()
        r1, mrr, abstain, ranked = (f"{s[k]:.3f}" for k in ("recall@1", "mrr@3", "abstention",
                                                            "ranked@1"))
        if not s["answerable"]:
            r1 = mrr = ranked = "n/a"
        if not s["off_topic"]:  # no off-topic questions: nothing to abstain on
            abstain = "n/a"
        lines.append(
            f"{lang:<5} {s['answerable']:>4} {r1:>6} {mrr:>6} {s['off_topic']:>4} {abstain:>7} "
            f"{ranked:>8}"
        )
    if show_misses and "all" in tallies and tallies["all"].misses:
        lines.append("")
        lines.extend(tallies["all"].misses)
    return "\n".join(lines)
