"""Logs of a real bot process: one JSON object per line, context as fields, no secrets."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from bot.logs import setup_logging
from bot.sandbox.standin import StandIn
from tests.conftest import eventually
from tests.processes import start_process, write_config


async def test_json_logs_carry_context_as_fields_and_never_a_secret(
    standin: StandIn, tmp_path: Path
) -> None:
    config = write_config(standin, tmp_path)
    proc = await start_process(config, tmp_path, "--log-format", "json", "--log-level", "DEBUG")
    try:
        await standin.wait_connected(timeout=30)
        await standin.say("/审核", sender="mallory")  # an admin command: refused, logged
        await standin.wait_sent(where=lambda s: "管理员" in s.text, timeout=20)
        standin.faults.expire_sessions = True
        standin.faults.throttle_every = 1  # the first OpenAPI send is throttled
        await standin.say("/nosuch-logs", sender="bob")
        await eventually(lambda: any(code.startswith("Forbidden") for _, code in standin.rejected))
        standin.faults.throttle_every = 0
        await standin.wait_sent(where=lambda s: "/nosuch-logs" in s.text, timeout=20)
    finally:
        proc.terminate()
        await proc.wait()
    text = (tmp_path / "bot.log").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)

    refused = next(line for line in lines if "refused" in line["message"])
    assert refused["member"] == "mallory" and refused["conversation"] == "cid-group-1"
    assert refused["key"].startswith("msg:")
    assert "mallory" not in refused["message"]  # a field, not inside the text

    retried = next(line for line in lines if "attempt 1 failed" in line["message"])
    assert isinstance(retried["outbox_id"], int) and retried["route"] == "group"
    assert retried["member"] == "bob" and retried["key"].startswith("msg:")

    assert standin.client_secret not in text
    assert "appSecret" not in text and "clientSecret" not in text


def test_a_secret_that_reaches_a_log_line_is_masked() -> None:
    out = io.StringIO()
    setup_logging("INFO", stream=out, fmt="text", secrets=["s3cret-value-123"])
    try:
        try:
            raise ValueError("token request with appSecret=s3cret-value-123 failed")
        except ValueError:
            logging.getLogger("bot.test").exception("boom s3cret-value-123")
    finally:
        logging.getLogger().handlers.clear()
    assert "s3cret-value-123" not in out.getvalue()
    assert out.getvalue().count("***") >= 2


def test_text_logs_show_the_context_after_the_message() -> None:
    out = io.StringIO()
    setup_logging("INFO", stream=out)
    try:
        logging.getLogger("bot.test").info(
            "hello", extra={"key": "msg:1", "member": "alice", "outbox_id": 4}
        )
    finally:
        logging.getLogger().handlers.clear()
    assert out.getvalue().rstrip().endswith("hello [key=msg:1 member=alice outbox_id=4]")
