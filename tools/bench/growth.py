"""How a cost grows with its size (replicas, applications, nodes), computed from measured figures
for `make bench`'s report (issue 21, point 4): nothing here is written by hand.

A *step* goes from one size to the next measured one: the size ratio, the time ratio, the time per
unit (per pod, per application, per node) before and after, and the exponent ``k`` of
``time ~ size^k`` between the two points. A step is *faster than linear* when the time per unit
grows by more than ``TOLERANCE`` (k > 1), *slower than linear* when it falls by more (a fixed cost
spread over more units), else *about linear*. *Why* is the stages whose own time grew faster than
the size, and, for the time to every pod serving, the interval between one pod serving and the next.
"""
from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass

# Time per unit within +-15% from one size to the next counts as linear: one run per size on a
# shared 2-core machine is not finer than that.
TOLERANCE = 0.15


@dataclass(frozen=True)
class Step:
    small: float
    large: float
    t_small: float
    t_large: float

    @property
    def size_ratio(self) -> float:
        return self.large / self.small

    @property
    def time_ratio(self) -> float:
        return self.t_large / self.t_small

    @property
    def per_unit_ratio(self) -> float:
        """How the time per unit changed: 1.0 is linear."""
        return self.time_ratio / self.size_ratio

    @property
    def exponent(self) -> float:
        """k in time ~ size^k between the two points (1 is linear)."""
        return math.log(self.time_ratio) / math.log(self.size_ratio)

    @property
    def kind(self) -> str:
        if self.per_unit_ratio > 1 + TOLERANCE:
            return "faster than linear"
        if self.per_unit_ratio < 1 - TOLERANCE:
            return "slower than linear"
        return "about linear"

    def text(self, unit: str) -> str:
        return (f"{self.small:g} -> {self.large:g} {unit}s: x{self.size_ratio:.2f} the {unit}s, x{self.time_ratio:.2f} the time "
                f"({self.t_small / self.small:.2f} -> {self.t_large / self.large:.2f} s per {unit}, "
                f"k = {self.exponent:.2f}: {self.kind})")


def steps(points: dict[float, float | None]) -> list[Step]:
    """Consecutive steps over the sizes that have a positive time (a size not measured is skipped)."""
    measured = sorted((size, t) for size, t in points.items() if t is not None and t > 0 and size > 0)
    return [Step(a, b, ta, tb) for (a, ta), (b, tb) in itertools.pairwise(measured)]


def overall(points: dict[float, float | None]) -> Step | None:
    """From the smallest to the largest measured size."""
    measured = sorted((size, t) for size, t in points.items() if t is not None and t > 0 and size > 0)
    return Step(measured[0][0], measured[-1][0], measured[0][1], measured[-1][1]) if len(measured) > 1 else None


def stage_growth(small: dict[str, float], large: dict[str, float], size_ratio: float,
                 min_seconds: float = 0.5) -> list[tuple[str, float, float]]:
    """The stages whose time grew faster than the size (ratio above ``size_ratio`` beyond the
    tolerance, and at least ``min_seconds`` added), most added seconds first: (stage, small, large)."""
    out = []
    for stage, t_large in large.items():
        t_small = small.get(stage) or 0.0
        if t_large - t_small < min_seconds:
            continue
        if t_small <= 0 or t_large / t_small > size_ratio * (1 + TOLERANCE):
            out.append((stage, t_small, t_large))
    return sorted(out, key=lambda x: -(x[2] - x[1]))


def pod_interval(per_pod: dict[str, float] | None) -> float | None:
    """The median time between one pod serving and the next (pods in serving order)."""
    times = sorted((per_pod or {}).values())
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return statistics.median(gaps) if gaps else None


def explain(label: str, unit: str, points: dict[float, float | None],
            stages: dict[float, dict[str, float]] | None = None,
            intervals: dict[float, float | None] | None = None) -> str:
    """One sentence per measured curve: each step's figures and verdict, then why, from the stages
    (or the pod intervals) of the step that grew the most per unit."""
    found = steps(points)
    if not found:
        return f"{label}: fewer than two sizes measured, no growth to compute."
    parts = [f"{label}: " + "; ".join(step.text(unit) for step in found) + "."]
    worst = max(found, key=lambda step: step.per_unit_ratio)
    if worst.kind != "faster than linear":
        parts.append(f"No step grows faster than linear (largest change per {unit}: x{worst.per_unit_ratio:.2f}).")
        return " ".join(parts)
    why = []
    if stages and worst.small in stages and worst.large in stages:
        grown = stage_growth(stages[worst.small], stages[worst.large], worst.size_ratio)
        why += [f"stage {stage} {a:.1f} -> {b:.1f} s (x{b / a:.2f})" if a else f"stage {stage} 0 -> {b:.1f} s"
                for stage, a, b in grown[:3]]
    if intervals and intervals.get(worst.small) and intervals.get(worst.large):
        a, b = intervals[worst.small], intervals[worst.large]
        why.append(f"median interval between one pod serving and the next {a:.2f} -> {b:.2f} s")
    parts.append(f"Faster than linear from {worst.small:g} to {worst.large:g} {unit}s (x{worst.per_unit_ratio:.2f} per {unit}); "
                 + ("where it grew: " + "; ".join(why) + "." if why else
                    "no single stage grew faster than the size: the growth is spread over the run."))
    return " ".join(parts)
