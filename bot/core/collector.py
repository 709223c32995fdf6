"""The one policy for Python's cyclic garbage collector while hubpulse holds a snapshot.

A refresh keeps hundreds of thousands of records (and millions of strings, lists and tuples)
alive until the snapshot is written. The collector would walk all of them again and again: a
quarter of a 200,000-model crawl's time, and twice the time of the lineage pass. None of those
objects form cycles worth collecting, so:

* ``long_lived()`` spans a refresh: what ``settle()`` froze inside it is unfrozen at its end;
* ``settle()`` moves everything alive now out of the collector's reach (``gc.freeze``), called
  as the crawl's records pile up;
* ``paused()`` turns the collector off for a short CPU-bound pass (writing a snapshot), where
  nothing made is cyclic garbage.

Every ``gc`` call of hubpulse is here.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def long_lived() -> Iterator[None]:
    """Objects frozen by ``settle()`` inside this block are handed back to the collector at
    its end, when the refresh that made them is done with them."""
    try:
        yield
    finally:
        gc.unfreeze()


def settle() -> None:
    """Everything alive now is left alone by the collector until ``long_lived()`` ends."""
    gc.freeze()


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block (and back as it was after it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
