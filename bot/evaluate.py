"""Answer quality on a question set, per language: the right answer shown first, how often it
is sure and how often a sure answer is right, silence on off-topic questions and no false
certainty on "missing" ones.

A question set is JSON lines `{"q": ..., "gold": [phrases], "lang": "de"|"en"}`; a right
answer's text contains one of the gold phrases. An empty gold list marks a question the news
does not answer: `"kind": "missing"` (on an article's topic, the fact not stated: the right
reply is a hedge or nothing, never a sure answer) or, by default, off topic (the right reply
is no answer at all). Without "lang", the language is detected as the engine detects it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import NewsbotError
from bot.language.english import detect_language
from bot.search.engine import Engine


@dataclass
class Tally:
    """Counts for one language."""

    answerable: int = 0
    hits_at_1: int = 0  # the first answer shown holds a gold phrase (sure or hedged)
    sure: int = 0  # answerable questions answered as sure
    sure_right: int = 0  # … and right
    hedged: int = 0  # answerable questions answered under a hedge
    ranked_first: int = 0  # the first answer right had newsbot not abstained
    reciprocal_ranks: float = 0.0
    off_topic: int = 0
    abstained: int = 0  # off-topic questions with no answer
    missing: int = 0
    missing_not_sure: int = 0  # "missing" questions hedged or unanswered
    misses: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        """The figures we report."""
        n = self.answerable or 1
        return {
            "answerable": self.answerable,
            "recall@1": self.hits_at_1 / n if self.answerable else 0.0,
            "sure": self.sure / n if self.answerable else 0.0,
            "sure_right": self.sure_right / self.sure if self.sure else 0.0,
            "hedged": self.hedged / n if self.answerable else 0.0,
            "ranked@1": self.ranked_first / n if self.answerable else 0.0,
            "mrr@3": self.reciprocal_ranks / n if self.answerable else 0.0,
            "off_topic": self.off_topic,
            "abstention": self.abstained / self.off_topic if self.off_topic else 0.0,
            "missing": self.missing,
            "missing_not_sure": self.missing_not_sure / self.missing if self.missing else 0.0,
        }


def read_questions(path: Path) -> list[dict[str, Any]]:
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


def evaluate(engine: Engine, questions: list[dict[str, Any]]) -> dict[str, Tally]:
    """Ask every question and tally the results per language (and 'all')."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for item in questions:
        answers = engine.ask(item["q"], k=3)
        gold = item["gold"]
        first = engine.ask(item["q"], k=1, abstain=False).hits if gold else []
        for key in (item.get("lang") or detect_language(item["q"]), "all"):
            tally = tallies[key]
            if not gold and item.get("kind") == "missing":
                tally.missing += 1
                tally.missing_not_sure += not (answers.found and answers.sure)
                if answers.found and answers.sure and key == "all":
                    tally.misses.append(f"sure about a missing fact: {item['q']!r}")
                continue
            if not gold:
                tally.off_topic += 1
                tally.abstained += not answers.found
                if answers.found and key == "all":
                    tally.misses.append(f"answered off-topic: {item['q']!r}")
                continue
            tally.answerable += 1
            rank = next((r for r, hit in enumerate(answers.hits, 1)
                         if any(g in hit.text for g in gold)), None)
            tally.hits_at_1 += rank == 1
            tally.sure += answers.found and answers.sure
            tally.sure_right += answers.found and answers.sure and rank == 1
            tally.hedged += answers.hedged
            tally.ranked_first += bool(first) and any(g in first[0].text for g in gold)
            tally.reciprocal_ranks += 1 / rank if rank else 0.0
            if key != "all" or rank == 1:
                continue
            if rank:
                tally.misses.append(f"ranked {rank}: {item['q']!r}")
            else:
                got = answers.hits[0].text[:70] if answers.found else "no answer"
                tally.misses.append(f"missed: {item['q']!r} -> {got!r}")
    return dict(tallies)


def report(tallies: dict[str, Tally], show_misses: bool = True) -> str:
    """A small table plus the misses. R@1: the first answer shown is right (sure or hedged);
    sure: answered without a hedge; sure✓: of those, right; hedged: shown under a hedge;
    silent: off-topic questions unanswered; miss¬sure: "missing" questions not answered as
    sure; ranked@1: the first answer right had newsbot never abstained."""
    lines = [f"{'lang':<5} {'n':>4} {'R@1':>6} {'sure':>6} {'sure✓':>6} {'hedged':>6} "
             f"{'MRR@3':>6} {'off':>4} {'silent':>6} {'miss':>4} {'miss¬sure':>9} "
             f"{'ranked@1':>8}"]
    for lang in sorted(tallies, key=lambda k: (k == "all", k)):
        s = tallies[lang].summary()

        def f(key: str, when: bool, s: dict[str, float | int] = s) -> str:
            return f"{s[key]:.3f}" if when else "n/a"

        a = bool(s["answerable"])
        lines.append(
            f"{lang:<5} {s['answerable']:>4} {f('recall@1', a):>6} {f('sure', a):>6} "
            f"{f('sure_right', a):>6} {f('hedged', a):>6} {f('mrr@3', a):>6} "
            f"{s['off_topic']:>4} {f('abstention', bool(s['off_topic'])):>6} "
            f"{s['missing']:>4} {f('missing_not_sure', bool(s['missing'])):>9} "
            f"{f('ranked@1', a):>8}"
        )
    if show_misses and "all" in tallies and tallies["all"].misses:
        lines.append("")
        lines.extend(tallies["all"].misses)
    return "\n".join(lines)
