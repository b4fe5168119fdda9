"""The benchmark's one error type (its own module, so every part can raise it without
importing the package's entry point)."""


class BenchError(Exception):
    """A one-line problem with the benchmark's input (exit code 1)."""
