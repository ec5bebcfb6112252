"""Pure domain logic that features and the digest share (never a feature's handlers)."""
