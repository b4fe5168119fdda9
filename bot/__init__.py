"""paperbot: daily research-paper digests for Discord."""

__version__ = "0.1.0"
