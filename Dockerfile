# community-bot in a container (README "Deploy"). Not built by CI (no image registry here);
# the install step is the one the tests use: pip install '.[postgres]' into a venv.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY domain ./domain
COPY handlers ./handlers
COPY storage ./storage
RUN python -m venv /opt/community-bot \
    && /opt/community-bot/bin/pip install --no-cache-dir '.[postgres]'

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /srv/community-bot --shell /usr/sbin/nologin bot \
    && mkdir -p /srv/community-bot/data /etc/community-bot \
    && chown -R bot:bot /srv/community-bot
COPY --from=build /opt/community-bot /opt/community-bot
# The default storage.url, sqlite:///./data/community-bot.sqlite3, lands in the volume; set
# storage.url (or the secret file community_bot_storage__url) for PostgreSQL.
ENV PATH=/opt/community-bot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    COMMUNITY_BOT_OPS__LISTEN=0.0.0.0:9464
USER bot
WORKDIR /srv/community-bot
VOLUME ["/srv/community-bot/data"]
EXPOSE 9464
# SIGTERM: the bot closes the stream and finishes the work in hand (ops.shutdown_timeout,
# 20 s by default); give it `docker stop -t 30` / compose stop_grace_period: 30s.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=6s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:9464/readyz', timeout=5)"]
ENTRYPOINT ["community-bot", "--log-format", "json"]
CMD ["run", "--config", "/etc/community-bot/config.toml"]
