from bot.cli import main

# Guarded: a "spawn" worker process (the chart renderer, domain/likes_chart.py) imports the
# main module again, and must not start a second bot.
if __name__ == "__main__":
    raise SystemExit(main())
