"""Large read-only tables in few objects: columns of numbers, and strings packed one
after another into a single buffer, each in memory of its own.

A table of 100,000 names kept as Python strings (and places as objects) costs far more
than its text: a header per object, and the heap those objects were built in, which
the system rarely gets back once it is scattered with them. The time-zone index
(bot.core.zone_data) took 40 MB that way; packed, it takes a few."""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from typing import Literal

# The `array` typecodes of integers, the only kind a Column holds.
IntTypecode = Literal["b", "B", "h", "H", "i", "I", "l", "L", "q", "Q"]


class Column:
    """Numbers of one C type (an `array` typecode; "B" for bytes), appended to memory
    of their own: an anonymous mmap, doubled when full. Grown in the heap instead, a
    table ends up among the freed scraps of what built it and keeps them from being
    given back. Pages never written to take no memory, so the room to grow is free."""

    __slots__ = ("_capacity", "_length", "_memory", "_typecode", "_view")

    def __init__(self, typecode: IntTypecode) -> None:
        self._typecode = typecode
        self._length = 0
        self._memory = mmap.mmap(-1, mmap.PAGESIZE)
        self._view = memoryview(self._memory).cast(typecode)
        self._capacity = len(self._view)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, i: int) -> int:
        return self._view[i]

    def append(self, value: int) -> None:
        length = self._length
        if length == self._capacity:
            self._grow(length + 1)
        self._view[length] = value
        self._length = length + 1

    def extend(self, data: bytes) -> None:
        start = self._length
        end = start + len(data)
        if end > self._capacity:
            self._grow(end)
        self._view[start:end] = data
        self._length = end

    def part(self, start: int, end: int) -> memoryview:
        return self._view[start:end]

    def view(self) -> memoryview:
        """What was written, read-only in spirit: the memory stays while the view does.
        Appending more may move the column, which leaves earlier views unusable."""
        return self._view[: self._length]

    def _grow(self, length: int) -> None:
        old_memory, old_view = self._memory, self._view
        size = len(old_memory)
        while size < length * old_view.itemsize:
            size *= 2
        self._memory = mmap.mmap(-1, size)
        self._memory[: len(old_memory)] = old_memory
        self._view = memoryview(self._memory).cast(self._typecode)
        self._capacity = len(self._view)
        old_view.release()
        old_memory.close()


class PackedStrings:
    """A list of strings as one UTF-8 buffer, each string followed by a newline, and
    where each starts: two buffers where a list would keep an object per string."""

    __slots__ = ("_data", "_starts")

    def __init__(self, data: memoryview, starts: memoryview) -> None:
        self._data = data
        self._starts = starts  # one more than there are strings: where the next would start

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, i: int) -> str:
        if not 0 <= i < len(self._starts) - 1:
            raise IndexError(i)
        return str(self._data[self._starts[i] : self._starts[i + 1] - 1], "utf-8")

    def __iter__(self) -> Iterator[str]:
        return iter(str(self._data, "utf-8").split("\n")[:-1])


class StringsBuilder:
    """Strings appended one at a time, then `pack`ed (without copying) into
    PackedStrings."""

    __slots__ = ("data", "starts")

    def __init__(self) -> None:
        self.data = Column("B")
        self.starts = Column("I")
        self.starts.append(0)

    def append(self, item: str) -> None:
        if "\n" in item:
            raise ValueError(f"a packed string cannot hold a newline: {item!r}")
        data = self.data
        data.extend(item.encode() + b"\n")
        self.starts.append(len(data))

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, i: int) -> str:
        return str(self.data.part(self.starts[i], self.starts[i + 1] - 1), "utf-8")

    def pack(self) -> PackedStrings:
        """The strings so far; append no more after."""
        return PackedStrings(self.data.view(), self.starts.view())
