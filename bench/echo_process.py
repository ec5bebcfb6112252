"""The SDK's sample echo bot (examples/chatbot) as an OS process of its own, for mix_bench.

It imports only ``dingtalk_stream`` (whose endpoint the parent sets in the environment:
``DINGTALK_OPENAPI_ENDPOINT``), so its CPU time and resident memory are the echo bot's
alone, as the bot's are in its own ``python -m bot run`` process.

Usage: ``python -m bench.echo_process CLIENT_ID CLIENT_SECRET``; runs until terminated.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import dingtalk_stream


class EchoBot(dingtalk_stream.ChatbotHandler):  # type: ignore[misc]
    """reply_text with the incoming text, as the SDK's example does."""

    async def process(self, callback: Any) -> tuple[int, str]:
        incoming = dingtalk_stream.ChatbotMessage.from_dict(callback.data)
        self.reply_text(incoming.text.content.strip(), incoming)
        return dingtalk_stream.AckMessage.STATUS_OK, "OK"


def main(client_id: str, client_secret: str) -> None:
    logging.basicConfig(level=logging.ERROR)
    for name in ("dingtalk_stream.client", "dingtalk_stream.handler"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    client = dingtalk_stream.DingTalkStreamClient(
        dingtalk_stream.Credential(client_id, client_secret)
    )
    client.get_host_ip = lambda: "127.0.0.1"  # the SDK probes a public address for this
    client.register_callback_handler(dingtalk_stream.ChatbotMessage.TOPIC, EchoBot())
    asyncio.run(client.start())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
