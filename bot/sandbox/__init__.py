"""The local DingTalk stand-in and the terminal sandbox."""
