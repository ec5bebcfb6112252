"""Run every benchmark, each with its baseline in the same run, and print one table.

Usage: ``python -m bench [--only stream mix ...] [--quick] [--backends sqlite postgresql]``.
Each benchmark runs in a process of its own and writes ``bench/results/<name>.json``; the
table (figure, baseline, ratio, target, met?) is printed and saved as
``bench/results/summary.md``, which the README shows. ``--quick`` shrinks the data for a
smoke run (its figures are not the targets').

``--backends sqlite postgresql`` runs the stream, click-storm, digest and likes benchmarks on
both (PostgreSQL from ``--postgres URL`` or ``$COMMUNITY_BOT_TEST_POSTGRES``, a fresh database
each), and ``stream2``: the stream benchmark with two bot processes on PostgreSQL. Both
backends get the same, medium data sizes (``Bench.both``), so their rows compare; results go
to ``bench/results/<name>.<backend>.json`` and the table to ``bench/results/backends.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    figure: str
    value: float
    baseline: str
    ratio: str
    target: str
    met: bool


def _fmt(x: float) -> str:
    return f"{x:g}"


def stream_rows(r: dict[str, Any]) -> list[Row]:
    echo, bot = r["baseline_sdk_echo"], r["community_bot"]
    rows = []
    procs_label = f", {r['processes']} processes together" if r.get("processes", 1) > 1 else ""
    if "cpu_ratio_20_groups" in r:
        procs = r.get("processes", 1)
        rows.append(
            Row(
                f"`/help help` CPU ms per message, 20 groups, {procs} process(es)",
                bot["cpu_ms_per_msg_20_groups"],
                f"echo bot {_fmt(echo['cpu_ms_per_msg_20_groups'])}",
                f"{r['cpu_ratio_20_groups']:.2f}×",
                "≥ 1.0× (echo / bot)",
                r["cpu_ratio_20_groups"] >= 1.0,
            )
        )
    for g in (1, 20):
        key = f"msgs_per_s_{g}_groups"
        ratio = r[f"throughput_ratio_{g}_groups"]
        rows.append(
            Row(
                f"`/help help` msg/s, {g} group(s){procs_label}",
                bot[key],
                f"echo bot {_fmt(echo[key])}",
                f"{ratio:.2f}×",
                "≥ 1.0×",
                ratio >= 1.0,
            )
        )
    rows.append(
        Row(
            "`/help help` ack p99 at 200 msg/s (ms)",
            bot["ack_p99_ms"],
            f"echo bot {_fmt(echo['ack_p99_ms'])}",
            "",
            "≤ 20",
            bot["ack_p99_ms"] <= 20,
        )
    )
    return rows


def mix_rows(r: dict[str, Any]) -> list[Row]:
    echo, bot = r["echo"], r["bot"]
    rows = [
        Row(
            "mix: CPU ms per message",
            bot["mix"]["cpu_ms_per_msg"],
            f"echo bot {_fmt(echo['mix']['cpu_ms_per_msg'])}",
            f"{r['cpu_ratio_mix']:.2f}×",
            "≥ 1.0× (echo / bot)",
            r["cpu_ratio_mix"] >= 1.0,
        ),
        Row(
            "mix: ack p99 at 200 msg/s (ms)",
            bot["ack_p99_ms"],
            f"echo bot {_fmt(echo['ack_p99_ms'])}",
            "",
            "≤ 20",
            bot["ack_p99_ms"] <= 20,
        ),
        Row(
            "mix: longest event-loop stall, loop-thread CPU (ms)",
            bot["longest_stall_ms"],
            f"echo bot {_fmt(echo['longest_stall_ms'])}; timer late ≤ "
            f"{_fmt(bot.get('longest_late_ms', 0))} ms",
            "",
            "≤ 20",
            bot["longest_stall_ms"] <= 20,
        ),
        Row(
            f"mix: peak RSS (MB), {r.get('peak_rss_of', 'bench process')}",
            r["peak_rss_mb"],
            f"re-scoring worker apart: {_fmt(r['process']['bot'].get('worker_peak_rss_mb', 0))} MB"
            if r.get("process")
            else "",
            "",
            "≤ 120",
            r["peak_rss_mb"] <= 120,
        ),
        *(
            [
                Row(
                    "mix: CPU ms per message, each bot in its own process",
                    r["process"]["bot"]["mix"]["cpu_ms_per_msg"],
                    f"echo bot {_fmt(r['process']['echo']['mix']['cpu_ms_per_msg'])}",
                    f"{r['process']['cpu_ratio_mix']:.2f}×",
                    "≥ 1.0× (echo / bot)",
                    r["process"]["cpu_ratio_mix"] >= 1.0,
                )
            ]
            if r.get("process")
            else []
        ),
    ]
    for kind, c in r["per_command"].items():
        rows.append(
            Row(
                f"  {kind}: CPU ms per message",
                c["bot_cpu_ms"],
                f"echo bot {_fmt(c['echo_cpu_ms'])}",
                f"{c['ratio']:.2f}×",
                "≥ 1.0×",
                c["ratio"] >= 1.0,
            )
        )
    return rows


def storm_rows(r: dict[str, Any]) -> list[Row]:
    ok = r["confirmed"] == r["seats"] and r["confirmed_in_arrival_order"]
    return [
        Row(
            f"storm: {r['clicks']} joins on {r['seats']} seats, click p99 (ms)",
            r["click_p99_ms"],
            f"SDK ack-only floor {_fmt(r['floor_p99_ms'])}; {r['confirmed']} confirmed, in order: {ok}"
            if "floor_p99_ms" in r
            else f"{r['confirmed']} confirmed, in order: {ok}",
            "",
            "≤ 200",
            r["click_p99_ms"] <= 200 and ok,
        ),
        *(
            [
                Row(
                    "storm: CPU ms per click",
                    r["cpu_ms_per_click"],
                    f"SDK ack-only floor {_fmt(r['floor_cpu_ms_per_click'])}",
                    f"{r['floor_cpu_ms_per_click'] / r['cpu_ms_per_click']:.2f}×",
                    "",
                    True,
                )
            ]
            if "floor_cpu_ms_per_click" in r
            else []
        ),
    ]


def likes_rows(r: dict[str, Any]) -> list[Row]:
    rows = [
        Row(
            f"likes: score {r['likes']:,} likes (s)",
            r["score_s"],
            f"reading them {_fmt(r['read_s'])} s",
            f"{r['score_to_read']:.2f}×",
            "≤ 2 s",
            r["score_s"] <= 2.0,
        )
    ]
    if "rescore_longest_stall_ms" in r:
        rows.append(
            Row(
                f"likes: re-scoring job, longest loop stall, loop-thread CPU (ms, {r['likes']:,} likes)",
                r["rescore_longest_stall_ms"],
                f"job {_fmt(r['rescore_job_s'])} s",
                "",
                "≤ 20",
                r["rescore_longest_stall_ms"] <= 20,
            )
        )
    return rows


def digest_rows(r: dict[str, Any]) -> list[Row]:
    return [
        Row("digest: build (ms)", r["build_ms"], "", "", "≤ 100", r["build_ms"] <= 100),
        Row(
            "digest: build with 10× history (ms)",
            r["build_after_growth_ms"],
            f"{_fmt(r['build_ms'])} ms before",
            f"{r['growth_ratio']:.2f}×",
            "≤ 1.5×",
            r["growth_ratio"] <= 1.5,
        ),
    ]


def skills_rows(r: dict[str, Any]) -> list[Row]:
    every = r["baseline_every_post_cpu_ms"]["match_every_post_ms"]
    rows = []
    for key, label in (("offer_ms", "/我会"), ("want_ms", "/我想学"), ("match_ms", "/匹配")):
        rows.append(
            Row(
                f"skills: {label} CPU at {r['posts']:,} posts (ms)",
                r["cpu_ms"][key],
                f"every post {_fmt(every)} ms" if key == "match_ms" else "",
                "",
                "≤ 20",
                r["cpu_ms"][key] <= 20,
            )
        )
    rows.append(
        Row(
            f"skills: worst at {r['posts_after_growth']:,} posts (ms)",
            max(r["cpu_ms_after_growth"].values()),
            f"{_fmt(r['worst_ms'])} ms at {r['posts']:,}",
            f"{r['growth_ratio']:.2f}×",
            "≤ 1.5×",
            r["growth_ratio"] <= 1.5,
        )
    )
    return rows


@dataclass(frozen=True)
class Bench:
    """A benchmark module, its arguments (full and quick) and how to read its result."""

    module: str
    full: list[str]
    quick: list[str]
    rows: Callable[[dict[str, Any]], list[Row]]
    # The backends it runs on (``--backend``), and its data sizes in a both-backends run.
    backends: tuple[str, ...] = ("sqlite",)
    both: tuple[str, ...] = ()


BOTH = ("sqlite", "postgresql")
STREAM_BOTH = ("--messages", "1000", "--rate-messages", "1000")
BENCHES = {
    "mix": Bench("bench.mix_bench", [], ["--messages", "300", "--per-command", "60"], mix_rows),
    "stream": Bench(
        "bench.stream_bench", [], ["--messages", "500"], stream_rows, BOTH, STREAM_BOTH
    ),
    "stream2": Bench(
        "bench.stream_bench",
        ["--processes", "2"],
        ["--processes", "2", "--messages", "500"],
        stream_rows,
        ("postgresql",),
        ("--processes", "2", *STREAM_BOTH),
    ),
    "storm": Bench(
        "bench.storm_bench", [], ["--clicks", "200"], storm_rows, BOTH, ("--clicks", "500")
    ),
    "skills": Bench("bench.skills_bench", [], ["--posts", "2000", "--reps", "5"], skills_rows),
    "likes": Bench(
        "bench.likes_bench", [], ["--likes", "100000"], likes_rows, BOTH, ("--likes", "200000")
    ),
    "digest": Bench(
        "bench.digest_bench", [], ["--scale", "0.05"], digest_rows, BOTH, ("--scale", "0.1")
    ),
}


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| figure | value | baseline (same run) | ratio | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.figure} | {_fmt(r.value)} | {r.baseline} | {r.ratio} | {r.target} | "
            f"{'yes' if r.met else '**no**'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), default=list(BENCHES))
    parser.add_argument("--quick", action="store_true", help="small data: a smoke run")
    parser.add_argument(
        "--table-only", action="store_true", help="rebuild the table from saved results"
    )
    parser.add_argument("--backends", nargs="+", choices=BOTH, default=["sqlite"])
    parser.add_argument("--postgres", default=None, help="server URL for PostgreSQL runs")
    args = parser.parse_args(argv)
    several = args.backends != ["sqlite"]
    if several:  # the benchmarks that run on PostgreSQL
        args.only = [n for n in args.only if "postgresql" in BENCHES[n].backends]
    rows: list[Row] = []
    for name in args.only:
        bench = BENCHES[name]
        for backend in args.backends if several else ["sqlite"]:
            if backend not in bench.backends:
                continue
            suffix = f".{backend}" if several else ""
            out = RESULTS / f"{name}{suffix}{'.quick' if args.quick else ''}.json"
            if not args.table_only:
                started = time.perf_counter()
                extra = list(bench.quick if args.quick else bench.both if several else bench.full)
                if several:
                    extra += ["--backend", backend]
                    if args.postgres and backend == "postgresql":
                        extra += ["--postgres", args.postgres]
                command = [sys.executable, "-m", bench.module, *extra, "--out", str(out)]
                print(f"running {' '.join(command[1:])}", file=sys.stderr, flush=True)
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                print(f"  {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
            found = bench.rows(json.loads(out.read_text(encoding="utf-8")))
            if several:
                found = [replace(r, figure=f"{backend}: {r.figure}") for r in found]
            rows += found
    text = table(rows)
    print(text)
    if not args.quick:
        name = "backends.md" if several else "summary.md"
        (RESULTS / name).write_text(text + "\n", encoding="utf-8")
    return 0 if all(r.met for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
