"""A stream-mode DingTalk community bot: stories, skill swaps, volunteering, a weekly digest."""

__version__ = "0.1.0"
