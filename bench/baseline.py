"""The baseline: a client written the way the service's sample code is (see bench/README.md).

    ASRX_API_KEY=KEY python bench/baseline.py AUDIO.raw --url URL [--no-sleep] [--send-only]

--no-sleep drops the sleep after each send, as someone would to send a file as fast as possible.
--send-only reads nothing until the audio is sent: the floor of a paced sender (figure 2).
"""

import argparse
import json
import os
import threading
import time

import websocket

from asrx_cli.wire import (
    API_KEY_HEADER,
    BYTES_PER_SECOND,
    END_MARKERS,
    END_OF_STREAM,
    FRAME_BYTES,
    NEW_SENTENCE,
)


def receive(ws):
    text = None
    while True:
        message = json.loads(ws.recv())
        if message.get("text") in END_MARKERS:
            if text:
                print(text, flush=True)
            return
        if message.get("state") == NEW_SENTENCE and text:
            print(text, flush=True)
        text = message.get("text")


def main():
    parser = argparse.ArgumentParser(description="The sample-code client.")
    parser.add_argument("audio")
    parser.add_argument("--url", required=True)
    parser.add_argument("--no-sleep", action="store_true")
    parser.add_argument("--send-only", action="store_true")
    options = parser.parse_args()

    key = os.environ["ASRX_API_KEY"]
    ws = websocket.create_connection(options.url, header={API_KEY_HEADER: key})
    receiver = threading.Thread(target=receive, args=(ws,))
    if not options.send_only:
        receiver.start()
    with open(options.audio, "rb") as audio:
        for data in iter(lambda: audio.read(FRAME_BYTES), b""):
            ws.send_binary(data)
            if not options.no_sleep:
                time.sleep(FRAME_BYTES / BYTES_PER_SECOND)
    ws.send(json.dumps(END_OF_STREAM))
    if options.send_only:
        receiver.start()
    receiver.join()
    ws.close()


if __name__ == "__main__":
    main()
