"""``community-bot run --config FILE`` and ``community-bot sandbox``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Sequence

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

__all__ = ["main", "setup_logging"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="community-bot", description=__doc__)
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=None,
        help="text, or json: one object per line (default: ops.log_format, else text)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="connect to DingTalk in stream mode and serve")
    run.add_argument("--config", "-c", required=True, help="path to config.toml")
    check = sub.add_parser(
        "check", help="validate the config, database, credentials and stream, then exit"
    )
    check.add_argument("--config", "-c", required=True, help="path to config.toml")
    migrate = sub.add_parser("migrate", help="apply the database migrations, then exit")
    migrate.add_argument("--config", "-c", required=True, help="path to config.toml")
    sandbox = sub.add_parser("sandbox", help="the whole bot against a local DingTalk stand-in")
    sandbox.add_argument("--data", default="./data", help="folder for the sandbox's SQLite file")
    sandbox.add_argument("--config", "-c", default=None, help="optional config.toml to start from")
    return parser


def settle_heap() -> None:
    """Move what start-up built (modules, the handlers, SQLAlchemy's tables) out of the
    garbage collector's sight: a full collection walks every tracked object, about 120,000
    after the bot's imports, 30 to 130 ms with the loop standing still each time. Those
    objects live as long as the process anyway. ``gc.freeze`` is the documented way
    (https://docs.python.org/3/library/gc.html#gc.freeze)."""
    gc.collect()
    gc.freeze()


async def _run(settings: Settings) -> int:
    from bot.app import Application

    app = Application(settings)
    settle_heap()
    stop = asyncio.Event()
    task = asyncio.create_task(app.run_forever(stop))
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        # The first signal stops gracefully (ops.shutdown_timeout); a second one at once.
        if stop.is_set():
            task.cancel()
            return
        logging.getLogger("bot").info(
            "%s: stopping (at most %ss)", sig.name, settings.ops.shutdown_timeout
        )
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await task
    except asyncio.CancelledError:
        return 0  # SIGINT / SIGTERM: a clean stop
    except DBAPIError as exc:
        # A corrupted or unreadable database: one clear line naming it, not a traceback.
        url = make_url(settings.storage.url).render_as_string(hide_password=True)
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
        print(f"community-bot: database error: {url}: {reason}", file=sys.stderr)
        logging.getLogger("bot").critical("database error: %s: %s", url, reason)
        return 3
    except Exception:
        # A part of the bot could not be kept running: exit non-zero so that systemd,
        # Kubernetes or whoever started us notices, rather than look alive doing nothing.
        logging.getLogger("bot").critical("the bot stopped on an error", exc_info=True)
        return 1
    return 0


def _check(settings: Settings, path: str) -> int:
    from bot.checks import run_checks

    setup_logging("CRITICAL", secrets=settings.secret_values())  # the lines below say it all
    print(f"community-bot check: {path}")
    checks = asyncio.run(run_checks(settings))
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok and c.fatal]
    print("all good" if not failed else f"{len(failed)} problem(s): see FAIL above")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """The console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            settings = load_settings(args.config)
            if not settings.dingtalk.client_id or not settings.dingtalk.client_secret:
                raise ConfigError(
                    f"{args.config}: dingtalk.client_id and dingtalk.client_secret are required"
                )
            setup_logging(
                args.log_level,
                fmt=args.log_format or settings.ops.log_format,
                secrets=settings.secret_values(),
            )
            return asyncio.run(_run(settings))
        if args.command == "check":
            return _check(load_settings(args.config), args.config)
        if args.command == "migrate":
            settings = load_settings(args.config)
            setup_logging("WARNING", secrets=settings.secret_values())
            from bot.checks import migrate

            revision = asyncio.run(migrate(settings))
            print(f"community-bot: database schema at {revision}")
            return 0
        from bot.sandbox.chat import run_sandbox

        return run_sandbox(data_dir=args.data, config=args.config, log_level=args.log_level)
    except ConfigError as exc:
        print(f"community-bot: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
