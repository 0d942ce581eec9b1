"""Where the samples of a py-spy profile went: shares of the busy samples.

    py-spy record -p <worker pid> -d 20 -r 100 -f raw -o storm.raw
    python -m bench.spy_summary storm.raw[.gz] [--top 25] [--match open_channel --match hydrate]

py-spy's ``raw`` output is one collapsed stack per line (``a (file:line);b
(file:line);… count``), idle samples left out unless py-spy was given
``--idle``. Printed:

* **inclusive** shares of functions (a sample counts once for every distinct
  function on its stack): what a caller costs with everything below it;
* **self** shares per package of the innermost frame (kyoso, reflex,
  sqlalchemy, socketio, engineio, uvicorn, asyncio, …): where the CPU itself
  is spent;
* only the main thread's samples (the event loop, where every event and
  socket is handled) unless ``--all-threads``;
* ``--bucket NAME=TEXT``: exclusive shares, each sample in the first bucket
  it matches;
* ``--match``: the inclusive share of samples with a frame whose text
  contains the given string (repeatable).
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*?)(?::\d+)?\)$")


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    if path.suffix == ".gz":
        text = gzip.decompress(path.read_bytes()).decode(errors="replace")
    else:
        text = path.read_text(errors="replace")
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        stacks.append((stack.split(";"), int(count)))
    return stacks


def package(frame: str) -> str:
    """The package of a frame's file. py-spy writes paths relative to the
    interpreter's path entries (``sqlalchemy/engine/base.py``,
    ``asyncio/events.py``), or absolute ones."""
    m = FRAME.match(frame)
    file = m.group("file") if m else frame
    if "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    elif "/lib/python3" in file:
        file = file.split("/lib/python3", 1)[1].split("/", 1)[1]
    elif "/kyoso/" in file:
        file = "kyoso/" + file.split("/kyoso/", 1)[1]
    if file.startswith("kyoso/"):
        part = file.split("/")[1] if file.count("/") >= 1 else file
        return f"kyoso.{part.removesuffix('.py')}"
    return file.split("/", 1)[0].removesuffix(".py") or frame


def func_name(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    file = m.group("file")
    short = file.split("site-packages/", 1)[-1] if "site-packages/" in file else file.split("/wt-", 1)[-1]
    return f"{m.group('func')} ({short})"


def main_thread(stacks: list[tuple[list[str], int]]) -> list[tuple[list[str], int]]:
    """The samples of the main thread (the event loop): the others start in
    ``Thread._bootstrap``. py-spy takes a thread blocked in a C wait (the
    thread pool's idle workers) for busy, so they would drown the figures."""
    return [(f, c) for f, c in stacks if not any(x.startswith("Thread._bootstrap") for x in f[:3])]


def buckets(stacks: list[tuple[list[str], int]], spec: list[str]) -> list[tuple[str, float]]:
    """Exclusive shares: each sample goes to the first bucket (``NAME=text``,
    in the order given) with a frame containing its text; the rest to
    "other"."""
    named = [tuple(b.split("=", 1)) if "=" in b else (b, b) for b in spec]
    total = sum(c for _, c in stacks) or 1
    got: Counter[str] = Counter()
    for frames, count in stacks:
        for name, text in named:
            if any(text in f for f in frames):
                got[name] += count
                break
        else:
            got["other"] += count
    return [(name, 100 * got[name] / total) for name, _ in named] + [("other", 100 * got["other"] / total)]


def summarise(stacks: list[tuple[list[str], int]], top: int, matches: list[str]) -> str:
    total = sum(c for _, c in stacks)
    if not total:
        return "no samples"
    inclusive: Counter[str] = Counter()
    leaf_pkg: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    for frames, count in stacks:
        body = [f for f in frames if "(" in f]
        for name in {func_name(f) for f in body}:
            inclusive[name] += count
        leaf_pkg[package(body[-1]) if body else "(unreadable)"] += count
        for m in matches:
            if any(m in f for f in frames):
                matched[m] += count
    out = [f"{total} busy samples", "", "inclusive (function with everything it calls):"]
    for name, c in inclusive.most_common(top):
        out.append(f"  {100 * c / total:5.1f} %  {name}")
    out += ["", "self, by package of the innermost frame:"]
    for name, c in leaf_pkg.most_common(top):
        out.append(f"  {100 * c / total:5.1f} %  {name}")
    if matches:
        out += ["", "samples with a frame containing:"]
        for m in matches:
            out.append(f"  {100 * matched[m] / total:5.1f} %  {m}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.spy_summary", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("raw", type=Path)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--match", action="append", default=[])
    p.add_argument("--bucket", action="append", default=[], metavar="NAME=TEXT",
                   help="exclusive shares: a sample goes to the first bucket with a frame containing TEXT")
    p.add_argument("--all-threads", action="store_true",
                   help="count every thread's samples (default: the main thread's, the event loop)")
    args = p.parse_args(argv)
    stacks = parse(args.raw)
    if not args.all_threads:
        stacks = main_thread(stacks)
    print(summarise(stacks, args.top, args.match))
    if args.bucket:
        print("\nexclusive buckets (first match in the order given):")
        for name, share in buckets(stacks, args.bucket):
            print(f"  {share:5.1f} %  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
