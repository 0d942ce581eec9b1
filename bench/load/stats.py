"""Percentiles, targets and the printed report."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of values; nan when empty."""
    if not values:
        return math.nan
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


@dataclass
class Dist:
    """A latency distribution in milliseconds."""

    name: str
    ms: list[float]
    expected: int = 0  # samples that should exist (for "received by all")

    @property
    def missing(self) -> int:
        return max(0, self.expected - len(self.ms)) if self.expected else 0

    def summary(self) -> dict[str, Any]:
        return {
            "n": len(self.ms), "missing": self.missing,
            "p50": percentile(self.ms, 50), "p95": percentile(self.ms, 95),
            "p99": percentile(self.ms, 99), "max": max(self.ms) if self.ms else math.nan,
        }

    def line(self) -> str:
        s = self.summary()
        miss = f"  MISSING {s['missing']}" if s["missing"] else ""
        return (f"  {self.name:<34} n={s['n']:<6} p50={s['p50']:7.1f}  p95={s['p95']:7.1f}  "
                f"p99={s['p99']:7.1f}  max={s['max']:7.1f} ms{miss}")


@dataclass
class Check:
    what: str
    ok: bool
    got: str


@dataclass
class Report:
    title: str
    dists: list[Dist] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def dist(self, name: str, ms: list[float], expected: int = 0) -> Dist:
        d = Dist(name, ms, expected)
        self.dists.append(d)
        return d

    def check(self, what: str, ok: bool, got: str) -> None:
        self.checks.append(Check(what, ok, got))

    def at_most(self, what: str, value: float, limit: float, unit: str = "ms") -> None:
        ok = not math.isnan(value) and value <= limit
        self.check(f"{what} <= {limit:g} {unit}", ok, f"{value:.1f} {unit}")

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def text(self) -> str:
        out = [f"== {self.title}"]
        for k, v in self.facts.items():
            out.append(f"  {k}: {v}")
        out += [d.line() for d in self.dists]
        for c in self.checks:
            out.append(f"  [{'PASS' if c.ok else 'MISS'}] {c.what}: {c.got}")
        out.append(f"  => {'all targets met' if self.ok else 'TARGET MISSED'}")
        return "\n".join(out)

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title, "ok": self.ok, "facts": self.facts,
            "dists": {d.name: d.summary() for d in self.dists},
            "checks": [{"what": c.what, "ok": c.ok, "got": c.got} for c in self.checks],
        }


def dumps(reports: list[Report]) -> str:
    return json.dumps([r.as_json() for r in reports], ensure_ascii=False, indent=1,
                      default=lambda x: None if isinstance(x, float) and math.isnan(x) else str(x))
