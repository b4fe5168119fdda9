"""The pure domain: parsing, dedupe, topics, search ranking and digest layout.

It imports only the standard library, rapidfuzz and itself; what it needs from outside
are the Protocols of `bot.core.ports`. tests/test_architecture.py enforces it.
"""
