"""Tests that have JSON nested thousands deep parsed in the test process (the client's parser,
the server's, or an in-process server): a garbage collection in the middle of such a parse would
run the finalizers of what earlier tests left (sockets, event loops) next to the recursion limit,
where they fail (RecursionError, reported as unraisable) whatever the code under test does."""

import contextlib
import gc


@contextlib.contextmanager
def no_garbage_collection():
    """The collector off for the block; it runs as usual before and after."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
