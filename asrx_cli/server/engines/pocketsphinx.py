"""PocketSphinx 5 with the English model its wheel ships.

Each session gets a decoder of its own. Building one loads the model (about
0.3 s and 90 MB), so decoders are reused between sessions, with their
cepstral mean reset so that no session hears the voice of the previous one.
"""

import pocketsphinx

from asrx_cli.wire import BYTES_PER_SECOND, SAMPLE_RATE

# Decoding the first utterance again as a whole delays its final text by the
# decoding time: up to 3 s of audio it stays well within a second (measured by
# make bench, figure 8), and it holds up the worker's other sessions less.
LONGEST_RESCORED_BYTES = 3 * BYTES_PER_SECOND
IDLE_DECODERS_KEPT = 2


def _new_decoder() -> pocketsphinx.Decoder:
    # loglevel FATAL keeps the model loader's INFO lines off stderr. Without
    # the flat-lexicon and best-path passes decoding takes a quarter less CPU,
    # and on pocketsphinx-testdata it makes fewer errors, not more.
    return pocketsphinx.Decoder(samprate=SAMPLE_RATE, loglevel="FATAL", fwdflat=False, bestpath=False)


class PocketSphinxEngine:
    name = "pocketsphinx"

    def __init__(self):
        pocketsphinx.set_loglevel("FATAL")
        self._idle = [_new_decoder()]
        self._initial_cmn = self._idle[0].get_cmn()

    def open(self) -> "PocketSphinxRecognizer":
        decoder = self._idle.pop() if self._idle else _new_decoder()
        decoder.set_cmn(self._initial_cmn)
        return PocketSphinxRecognizer(decoder, self._release)

    def _release(self, decoder: pocketsphinx.Decoder) -> None:
        if len(self._idle) < IDLE_DECODERS_KEPT:
            self._idle.append(decoder)


class PocketSphinxRecognizer:
    """Live decoding; the first utterance of a session is decoded once more.

    Live decoding normalises the audio with a running cepstral mean that
    starts from a generic guess, so the first second or two of a session is
    heard badly ("go forward ten years" for "go forward ten meters"). When the
    first utterance ends, decoding it again with the mean of the whole
    utterance gives the right words and leaves the decoder a mean that fits
    the speaker for the utterances after it.
    """

    def __init__(self, decoder: pocketsphinx.Decoder, release):
        self._decoder = decoder
        self._release = release
        self._utterances = 0
        self._first_utterance_audio = []
        self._first_utterance_bytes = 0
        self._in_utterance = False

    def start_utterance(self) -> None:
        self._decoder.start_utt()
        self._in_utterance = True

    def accept(self, pcm: bytes) -> None:
        self._decoder.process_raw(pcm, False, False)
        if self._utterances == 0 and self._first_utterance_bytes <= LONGEST_RESCORED_BYTES:
            self._first_utterance_audio.append(pcm)
            self._first_utterance_bytes += len(pcm)

    def hypothesis(self) -> str:
        hypothesis = self._decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""

    def end_utterance(self) -> str:
        self._decoder.end_utt()
        self._in_utterance = False
        if self._utterances == 0 and 0 < self._first_utterance_bytes <= LONGEST_RESCORED_BYTES:
            self._decode_whole(b"".join(self._first_utterance_audio))
        self._utterances += 1
        self._first_utterance_audio = []
        return self.hypothesis()

    def _decode_whole(self, pcm: bytes) -> None:
        self._decoder.start_utt()
        self._decoder.process_raw(pcm, False, True)
        self._decoder.end_utt()

    def close(self) -> None:
        if self._decoder is not None:
            if self._in_utterance:  # the client left mid-sentence
                self._decoder.end_utt()
            self._release(self._decoder)
            self._decoder = None
