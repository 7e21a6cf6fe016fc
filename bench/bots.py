"""Bot detection quality on a labelled UA set, and UA parse / bot check throughput."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

from jetrack.enrich.bots import bot_reason, user_agent_reason
from jetrack.enrich.ua import parse_user_agent, parse_user_agent_uncached

LABELS = Path(__file__).parent / "data" / "bot_labels.csv"
BOT_LABELS = {"bot", "automation"}


def load() -> list[tuple[str, str]]:
    """(ua, label) rows; label is "human", "bot" or "automation"."""
    with LABELS.open(newline="", encoding="utf-8") as file:
        return [(row["ua"], row["label"]) for row in csv.DictReader(file)]


def rate(calls: Callable[[str], object], uas: list[str], seconds: float = 1.0) -> float:
    """Calls per second of ``calls`` over ``uas``, repeated for about ``seconds``."""
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for ua in uas:
            calls(ua)
        done += len(uas)
    return done / elapsed


def main() -> int:
    rows = load()
    humans = [ua for ua, label in rows if label == "human"]
    bots = [(ua, label) for ua, label in rows if label in BOT_LABELS]
    false_positives = [(ua, bot_reason(ua)) for ua in humans if bot_reason(ua) is not None]
    missed = [ua for ua, _label in bots if bot_reason(ua) is None]
    wrong_kind = [
        ua for ua, label in bots if label == "automation" and bot_reason(ua) != "automation"
    ]

    print(f"labelled set: {len(rows)} UAs ({len(humans)} human, {len(bots)} bot/automation)")
    print(
        f"bot recall:          {1 - len(missed) / len(bots):7.2%}  ({len(bots) - len(missed)}/{len(bots)})"
    )
    print(
        f"human false-positive:{len(false_positives) / len(humans):7.2%}  ({len(false_positives)}/{len(humans)})"
    )
    print(
        f"automation labelled as 'automation': {sum(1 for _u, lab in bots if lab == 'automation') - len(wrong_kind)}"
        f"/{sum(1 for _u, lab in bots if lab == 'automation')}"
    )
    for ua, reason in false_positives:
        print(f"  false positive ({reason}): {ua}")
    for ua in missed:
        print(f"  missed: {ua!r}")

    uas = [ua for ua, _label in rows]
    uncached_bot_check = user_agent_reason.__wrapped__
    print(f"parse_user_agent uncached: {rate(parse_user_agent_uncached, uas):>10,.0f} UAs/s")
    print(f"parse_user_agent cached:   {rate(parse_user_agent, uas):>10,.0f} UAs/s")
    print(f"bot check uncached:        {rate(uncached_bot_check, uas):>10,.0f} UAs/s")
    print(f"bot_reason cached:         {rate(bot_reason, uas):>10,.0f} UAs/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
