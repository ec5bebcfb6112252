"""The likes of one story over time as a PNG: counted likes, brushed ones marked, bursts shaded.

Rendered with matplotlib's Agg canvas (no display, no global pyplot state) in a worker
process (``render_off_loop``): a render takes 150-400 ms, and matplotlib's C drawing holds the
GIL for long stretches, so a worker thread still stalled the event loop by up to 65 ms
(measured on this 2-core machine under load; a worker process: under 20 ms, the probe's own
noise). Chinese labels use Noto
Sans CJK SC shipped in the ``mplfonts`` wheel (no system font needed); without it the chart is
labelled in English so it stays readable.

matplotlib is imported inside ``render`` only, that is in the worker process: imported with
the handlers it cost the bot's own process 28 MB resident (matplotlib, PIL, pyparsing,
dateutil, fontTools, kiwisolver) for drawing it never does (issue 15, memory).
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# matplotlib's date axis counts days since its epoch (rcParams "date.epoch", 1970 by default;
# matplotlib.dates.date2num has no type annotations, so the conversion is done here).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _days(at: datetime) -> float:
    return (at - _EPOCH).total_seconds() / 86400


@dataclass(frozen=True, slots=True)
class LikePoint:
    """One like: when, and the weight it counts for."""

    at: datetime
    weight: float


@dataclass(frozen=True, slots=True)
class Labels:
    """The chart's words, in the reader's language."""

    title: str
    y: str
    counted: str
    brushed: str
    burst: str


ZH = Labels("故事 #{id} 的点赞", "累计点赞", "真实点赞（按权重）", "低权重的赞", "集中点赞时段")
EN = Labels(
    "Likes of story #{id}", "likes so far", "genuine (weighted)", "discounted like", "burst"
)


@lru_cache(maxsize=1)
def cjk_font() -> Path | None:
    """The CJK font file shipped by ``mplfonts``, if installed."""
    try:
        path = Path(str(resources.files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf"))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def _pad(points: list[LikePoint]) -> timedelta:
    if len(points) < 2:
        return timedelta(minutes=1)
    return max((points[-1].at - points[0].at) / 200, timedelta(seconds=5))


def render(
    story_id: int,
    likes: list[LikePoint],
    bursts: list[tuple[datetime, datetime]],
    zone: ZoneInfo,
    lang: str = "zh",
) -> bytes:
    """A PNG of the likes over time: raw count and genuine (weighted) count as steps,
    likes below full weight marked with an x, burst windows shaded."""
    # Here, not at the top: only the worker process draws (see the module's docstring).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = cjk_font() if lang == "zh" else None
    labels = ZH if font is not None else EN
    props = FontProperties(fname=str(font)) if font is not None else FontProperties()
    fig = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    points = sorted(likes, key=lambda p: p.at)
    times = [_days(p.at.astimezone(zone)) for p in points]
    raw = list(range(1, len(points) + 1))
    genuine: list[float] = []
    total = 0.0
    for p in points:
        total += p.weight
        genuine.append(total)
    for start, end in bursts:
        # A burst lasts seconds: widen its shading so it shows on a chart spanning days.
        pad = _pad(points)
        ax.axvspan(
            _days((start - pad).astimezone(zone)),
            _days((end + pad).astimezone(zone)),
            color="#f4b400",
            alpha=0.3,
            label=labels.burst,
        )
    if points:
        ax.step(times, raw, where="post", color="#9e9e9e", label=labels.y)
        ax.step(times, genuine, where="post", color="#1a73e8", linewidth=2, label=labels.counted)
        low = [(t, g) for t, g, p in zip(times, genuine, points, strict=True) if p.weight < 0.999]
        if low:
            ax.scatter(
                [t for t, _ in low],
                [g for _, g in low],
                marker="x",
                color="#d93025",
                zorder=3,
                label=labels.brushed,
            )
        # matplotlib.dates has no annotations for these two (the rest of the API is typed).
        locator = AutoDateLocator(tz=zone)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        # Numbers only: month names would be English words on a Chinese chart.
        formatter = ConciseDateFormatter(  # type: ignore[no-untyped-call]
            locator,
            tz=zone,
            formats=["%Y", "%m-%d", "%m-%d", "%H:%M", "%H:%M", "%S"],
            zero_formats=["", "%Y", "%m-%d", "%m-%d", "%H:%M", "%H:%M"],
            offset_formats=["", "%Y", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"],
        )
        ax.xaxis.set_major_formatter(formatter)
    ax.set_title(labels.title.format(id=story_id), fontproperties=props)
    ax.set_ylabel(labels.y, fontproperties=props)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles, strict=True))  # one legend entry per kind
    ax.legend(unique.values(), unique.keys(), prop=props, loc="upper left")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def burst_spans(times: list[datetime], window: float) -> list[tuple[datetime, datetime]]:
    """Windows to shade: runs of burst likes no more than ``window`` seconds apart."""
    spans: list[tuple[datetime, datetime]] = []
    for at in sorted(times):
        if spans and (at - spans[-1][1]).total_seconds() <= window:
            spans[-1] = (spans[-1][0], at)
        else:
            spans.append((at, at))
    return spans


_POOL: ProcessPoolExecutor | None = None


async def render_off_loop(
    story_id: int,
    likes: list[LikePoint],
    bursts: list[tuple[datetime, datetime]],
    zone: ZoneInfo,
    lang: str = "zh",
) -> bytes:
    """``render`` in a worker process, so the event loop is never held.

    One worker, started on the first chart ("spawn": a fork of a process running an event
    loop and threads could inherit held locks), kept for the next ones.
    """
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, render, story_id, likes, bursts, zone, lang)
