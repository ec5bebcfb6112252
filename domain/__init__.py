"""Pure domain logic that features share (no handlers, no storage, no platform)."""
