"""The Discord-free domain: parsing, dedupe, topics, search ranking and digest layout.

Nothing under this package may import `discord`; tests/test_core_purity.py enforces it.
"""
