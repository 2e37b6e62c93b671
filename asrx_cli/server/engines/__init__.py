"""Speech engines behind `asrx serve`, and the registry that names them.

An engine is one module under this package holding a class with this shape
(nothing needs to inherit from anything):

    class MyEngine:
        name = "my-engine"

        def __init__(self):              # load the model, once per worker process
            ...

        def open(self) -> Recognizer:    # one recogniser per client session
            ...

        def trim(self, idle_seconds) -> bool:  # optional: free what was kept for sessions
            ...                                # to come, unused for idle_seconds; whether any was

and a recogniser decodes one utterance at a time, 16 kHz mono s16le audio:

    class Recognizer:
        def start_utterance(self): ...
        def accept(self, pcm: bytes): ...      # more audio of the utterance
        def hypothesis(self) -> str: ...       # best text so far
        def end_utterance(self) -> str: ...    # final text of the utterance
        def close(self): ...                   # the session is over

Where utterances begin and end is not the engine's business: the server's
endpointer decides (see `transcriber.py`). To add an engine, write its module
and add one line to ENGINES. This module imports nothing heavy: the command
line lists the names without loading any model.
"""

import importlib
from typing import Protocol

# name -> "module:class", imported only when a worker loads the engine.
ENGINES = {
    "pocketsphinx": "asrx_cli.server.engines.pocketsphinx:PocketSphinxEngine",
}
DEFAULT_ENGINE = "pocketsphinx"


class Recognizer(Protocol):
    def start_utterance(self) -> None: ...

    def accept(self, pcm: bytes) -> None: ...

    def hypothesis(self) -> str: ...

    def end_utterance(self) -> str: ...

    def close(self) -> None: ...


class Engine(Protocol):
    name: str

    def open(self) -> Recognizer: ...


def engine_names() -> list:
    return sorted(ENGINES)


def load_engine(name: str) -> Engine:
    """Import the engine's module and build the engine (loads its model)."""
    try:
        target = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r} (known: {', '.join(engine_names())})") from None
    module_name, class_name = target.split(":")
    engine_class = getattr(importlib.import_module(module_name), class_name)
    return engine_class()
