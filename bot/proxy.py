"""The proxy, resolved once: ``[network] proxy``, else ``HTTPS_PROXY`` / ``HTTP_PROXY`` /
``ALL_PROXY``, minus ``NO_PROXY``; used by the OpenAPI, the session webhooks (``bot.http``) and
the stream WebSocket (``bot.stream``) alike."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """The proxy for DingTalk traffic (OpenAPI, session webhooks, the stream WebSocket).

    ``https`` serves ``https://`` and ``wss://`` URLs, ``http`` serves ``http://`` and
    ``ws://`` (empty: direct). ``no_proxy`` is the usual comma-separated list of host names,
    ``.domain`` suffixes, ``host:port`` entries and ``*``.
    """

    https: str = ""
    http: str = ""
    no_proxy: str = ""

    def for_url(self, url: str | httpx.URL) -> str | None:
        """The proxy URL for ``url``, or None to connect directly."""
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        secure = parsed.scheme in ("https", "wss")
        proxy = self.https if secure else self.http
        if not proxy or self.bypassed(parsed.host, parsed.port or (443 if secure else 80)):
            return None
        return proxy

    def bypassed(self, host: str, port: int) -> bool:
        """Whether ``NO_PROXY`` sends traffic to ``host:port`` directly."""
        host = host.lower().strip("[]")
        for entry in (e.strip().lower() for e in self.no_proxy.split(",")):
            if not entry:
                continue
            if entry == "*":
                return True
            name, sep, entry_port = entry.rpartition(":")
            if not sep or not entry_port.isdigit():
                name, entry_port = entry, ""
            if entry_port and entry_port != str(port):
                continue
            name = name.removeprefix("*").lstrip(".")
            if host == name or host.endswith("." + name):
                return True
        return False


def proxy_config(configured: str = "", no_proxy: str = "") -> ProxyConfig:
    """The proxy from ``[network] proxy`` (for every URL) or else the environment's
    ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` (either case), and ``NO_PROXY`` plus
    ``[network] no_proxy``."""
    env = os.environ

    def first(*names: str) -> str:
        for name in names:
            value = env.get(name) or env.get(name.lower())
            if value:
                return value.strip()
        return ""

    bypass = ",".join(part for part in (no_proxy, first("NO_PROXY")) if part)
    if configured:
        return ProxyConfig(https=configured, http=configured, no_proxy=bypass)
    return ProxyConfig(
        https=first("HTTPS_PROXY", "ALL_PROXY"),
        http=first("HTTP_PROXY", "ALL_PROXY"),
        no_proxy=bypass,
    )
