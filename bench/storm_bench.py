"""Click storm: 1000 join clicks from distinct members on a 50-seat activity.

The stand-in and load driver run in their own process (``bench.platform``) and fire every
click at once through the real stream protocol; the bot answers each inside the callback's
ack. Reports the click-answer latency p50/p99 (target p99 ≤ 200 ms) and checks that exactly
50 were confirmed and the rest waitlisted in arrival order.

Usage: ``python -m bench.storm_bench [--clicks 1000] [--seats 50]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.backends import BACKENDS, database
from bench.report import report
from bench.stream_bench import CLIENT_ID, CLIENT_SECRET, Platform
from bot.app import Application
from bot.config import load_settings
from storage.models import Signup


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    platform = await Platform.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with database(args.backend, Path(tmp), "storm", args.postgres) as url:
                settings = load_settings(
                    None,
                    dingtalk={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
                    storage={"url": url},
                    admins={"staff_ids": ["admin"]},
                    cards={"event_template": "tpl-event"},
                )
                app = Application(settings)
                await app.start()
                try:
                    await platform.ask(cmd="connected")
                    starts = (datetime.now(UTC) + timedelta(days=3)).astimezone(settings.bot.tz)
                    text = f"/活动 新建 周末植树 | {starts:%Y-%m-%d %H:%M} | 3 | 滨江公园 | {args.seats}"
                    result = await platform.ask(
                        cmd="storm", n=args.clicks, sender="admin", text=text
                    )
                    async with app.db.transaction() as session:
                        rows = (
                            await session.execute(
                                select(Signup.staff_id, Signup.status).order_by(Signup.id)
                            )
                        ).all()
                finally:
                    await app.stop()
    finally:
        await platform.stop()
    latencies = sorted(x for x in result["latencies"] if x is not None)
    states = result["states"]
    confirmed = [s for s, status in rows if status == "confirmed"]
    waitlisted = [s for s, status in rows if status == "waitlisted"]
    return {
        "backend": args.backend,
        "clicks": args.clicks,
        "seats": args.seats,
        "answered": len(latencies),
        "confirmed": len(confirmed),
        "waitlisted": len(waitlisted),
        "confirmed_in_arrival_order": confirmed == [f"m{i:05d}" for i in range(args.seats)],
        "waitlist_in_arrival_order": waitlisted
        == [f"m{i:05d}" for i in range(args.seats, args.clicks)],
        "answers_say_confirmed": sum(1 for s in states if s == "已报名"),
        "click_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "click_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "click_max_ms": round(latencies[-1] * 1000, 1),
        "target": "click_p99_ms <= 200",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clicks", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--backend", choices=BACKENDS, default="sqlite")
    parser.add_argument(
        "--postgres", default=None, help="server URL (else $COMMUNITY_BOT_TEST_POSTGRES)"
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args))
    return report(result, args.out)


if __name__ == "__main__":
    sys.exit(main())
