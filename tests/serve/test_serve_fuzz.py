"""Fuzzing what `asrx serve` parses from its clients: their text frames.

Hypothesis, with a bounded number of examples so that the suite stays fast.
Whatever a client writes, it gets its session's answer (the end marker, or
1003 for a frame that is not a JSON object), never an internal error.
"""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from asrx_cli.server.frames import NotJson, parse_text_frame
from asrx_cli.wire import END_OF_STREAM, is_end_of_stream
from tests.support.collector import no_garbage_collection
from tests.support.serving import server_fixture
from tests.support.speech import Exchange, connect, needs_testdata, read_until_closed

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)
statuses = (st.sampled_from(["CloseConnection", "end of stream", "End_Of_Stream", "close"])
            | json_values)
messages = st.fixed_dictionaries({}, optional={
    "status": statuses,
    "data": json_values | st.fixed_dictionaries({}, optional={"status": statuses}),
    "type": json_values,
})
text_frames = st.one_of(
    st.text(),
    json_values.map(json.dumps),
    messages.map(json.dumps),
    st.integers(1, 40_000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(1, 10_000).map(lambda depth: '{"data": ' * depth + "{}" + "}" * depth),
    st.integers(1, 10_000).map(lambda digits: '{"status": ' + "9" * digits + "}"),
)


@settings(max_examples=300, deadline=None)
@given(text_frames)
def test_a_text_frame_is_a_json_object_or_not_json_and_nothing_else(text):
    try:
        with no_garbage_collection():
            message = parse_text_frame(text)
    except NotJson:
        return
    assert isinstance(message, dict)
    assert is_end_of_stream(message) in (True, False)


server = server_fixture("server", workers=1)


@needs_testdata
@settings(max_examples=40, deadline=None)
@given(text=text_frames)
def test_whatever_text_a_client_sends_it_gets_the_end_marker_or_1003(server, text):
    ws = connect(server.url)
    with no_garbage_collection():  # the server parses it in this process
        ws.send(text)
        ws.send(json.dumps(END_OF_STREAM))
        exchange = read_until_closed(ws, Exchange())
    assert exchange.end_marker or exchange.close_code == 1003, \
        (exchange.close_code, exchange.close_reason)
