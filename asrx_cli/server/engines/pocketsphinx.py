"""PocketSphinx 5 with the English model its wheel ships.

Each session gets a decoder of its own. Building one loads the model (about
0.3 s and 90 MB), so decoders are reused between sessions, with their
feature extraction reset so that no session hears the voice of the previous
one.
"""

import pocketsphinx

from asrx_cli.wire import BYTES_PER_SECOND, SAMPLE_RATE

# How much of a session's first speech sets its cepstral mean (see
# PocketSphinxRecognizer): two seconds hold enough sounds for a usable mean;
# less gives a mean that depends on the first word.
PRIMING_BYTES = 2 * BYTES_PER_SECOND
IDLE_DECODERS_KEPT = 2

# loglevel FATAL keeps the model loader's INFO lines off stderr. Without the
# flat-lexicon and best-path passes decoding takes a quarter less CPU and makes
# fewer errors on pocketsphinx-testdata, not more (make bench, accuracy figure).
# Searching at most 5000 HMMs per frame (of 30000), with narrower phone and
# word-exit beams, takes about a third less again; 4000 HMMs and at most 10
# words ending per frame take 7% fewer instructions still (callgrind), for the
# same words there. 3000 HMMs, or fewer Gaussians per frame (topn), or every
# other frame (ds) lose words.
DECODER_SETTINGS = dict(samprate=SAMPLE_RATE, loglevel="FATAL", fwdflat=False, bestpath=False,
                        maxhmmpf=4000, maxwpf=10, pbeam=1e-45, wbeam=1e-25, lponlybeam=1e-20)


def _new_decoder() -> pocketsphinx.Decoder:
    return pocketsphinx.Decoder(**DECODER_SETTINGS)


class PocketSphinxEngine:
    name = "pocketsphinx"

    def __init__(self):
        pocketsphinx.set_loglevel("FATAL")
        self._idle = [_new_decoder()]

    def open(self) -> "PocketSphinxRecognizer":
        decoder = self._idle.pop() if self._idle else _new_decoder()
        # Back to the model's generic mean, and to whole-utterance normalisation.
        decoder.reinit_feat()
        return PocketSphinxRecognizer(decoder, self._release)

    def _release(self, decoder: pocketsphinx.Decoder) -> None:
        if len(self._idle) < IDLE_DECODERS_KEPT:
            self._idle.append(decoder)


class PocketSphinxRecognizer:
    """Live decoding, with a session's opening decoded once more.

    PocketSphinx normalises the audio by its cepstral mean. Live, that mean
    starts from the model's generic guess and only moves after several
    seconds, so the first sentences of a session are heard badly ("the mr
    john dashwood" for "and mister john dashwood"). Decoded as one block, an
    utterance is normalised by its own mean, as an offline decode is.

    So the session's first two seconds of speech are decoded live, for the
    partial hypotheses, and kept; then they are decoded again as one block,
    which gives the decoder the speaker's mean, and live decoding goes on from
    there. A first utterance shorter than that is decoded again as a whole
    when it ends. The mean then follows the speaker from utterance to
    utterance. The cost: two seconds of audio decoded twice per session, a
    quarter of the engine's instructions on one-sentence sessions; a mean
    from 1.5 s or 1 s of speech costs less and loses words.
    """

    def __init__(self, decoder: pocketsphinx.Decoder, release):
        self._decoder = decoder
        self._release = release
        self._opening = bytearray()  # the session's first speech, until it has primed the mean
        self._primed = False
        self._in_utterance = False

    def start_utterance(self) -> None:
        self._decoder.start_utt()
        self._in_utterance = True

    def accept(self, pcm: bytes) -> None:
        if self._primed:
            self._decoder.process_raw(pcm, False, False)
            return
        self._opening += pcm
        if len(self._opening) < PRIMING_BYTES:
            self._decoder.process_raw(pcm, False, False)
        else:
            self._prime()

    def _prime(self) -> None:
        """Decode the opening again as a block: its own mean normalises it and carries on."""
        self._decoder.end_utt()
        self._decoder.reinit_feat()
        self._decoder.start_utt()
        self._decoder.process_raw(bytes(self._opening), False, True)
        self._opening = bytearray()
        self._primed = True

    def hypothesis(self) -> str:
        hypothesis = self._decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""

    def end_utterance(self) -> str:
        if not self._primed and self._opening:
            self._prime()
        self._decoder.end_utt()
        self._in_utterance = False
        return self.hypothesis()

    def close(self) -> None:
        if self._decoder is not None:
            if self._in_utterance:  # the client left mid-sentence
                self._decoder.end_utt()
            self._release(self._decoder)
            self._decoder = None
