"""PocketSphinx 5 with the English model its wheel ships.

Each session gets a decoder of its own. Building one loads the model (about
0.3 s of CPU, holding up the other sessions of the worker process, and 90 MB),
so decoders are reused between sessions, with their feature extraction reset
so that no session hears the voice of the previous one. The server asks
every so often (`trim`) that the idle decoders let go more than
`--decoder-idle-time` ago be freed, but for the two last used: sessions
coming and going at a steady rate find one ready, and the memory of a burst
of sessions comes back after it, whether or not other sessions follow.
"""

import os
import time

import pocketsphinx

from asrx_cli.wire import BYTES_PER_SECOND, SAMPLE_RATE

# How much of a session's first speech sets its cepstral mean (see
# PocketSphinxRecognizer): two seconds hold enough sounds for a usable mean;
# less gives a mean that depends on the first word.
PRIMING_BYTES = 2 * BYTES_PER_SECOND
IDLE_DECODERS_KEPT = 2
# Once the mean is known, each piece of new audio brings this many times its
# length of the opening to decode: a batch of a fifth of a second
# (conversation.py) costs about 0.1 s of CPU (the whole opening at once, 0.25 s,
# holding up the other sessions of the worker), and two seconds are caught up
# in half a second.
CATCH_UP_RATE = 4

# loglevel FATAL keeps the model loader's INFO lines off stderr. Without the
# flat-lexicon and best-path passes decoding takes a quarter less CPU and makes
# fewer errors on pocketsphinx-testdata, not more (make bench, accuracy figure).
# Searching at most 4000 HMMs per frame (of 30000), with narrower phone and
# word-exit beams, takes about a third less again, and at most 10 words ending
# per frame 7% fewer instructions still (callgrind). A phone-loop lookahead of
# two frames (of 5) takes 8% fewer again (none: 35% more), for the same words
# on the LibriVox recordings, alone or back to back, and as many under noise,
# at telephone bandwidth and under music. 3000 HMMs, fewer Gaussians per frame
# (topn), every other frame (ds), a narrower beam, or a lookahead of one frame
# (a word lost at 8 kHz) lose words.
DECODER_SETTINGS = dict(samprate=SAMPLE_RATE, loglevel="FATAL", fwdflat=False, bestpath=False,
                        maxhmmpf=4000, maxwpf=10, pbeam=1e-45, wbeam=1e-25, lponlybeam=1e-20,
                        pl_window=2)


def _new_decoder() -> pocketsphinx.Decoder:
    return pocketsphinx.Decoder(**DECODER_SETTINGS)


class CepstralMean:
    """The cepstral mean of a stretch of speech, as an offline decode of it would normalise it by.

    PocketSphinx computes that mean when it extracts the features of a whole
    utterance, before searching them, which is what costs. This decoder's
    search has one word to look for and scores one frame in 50, so the mean
    of two seconds costs about 3 ms of CPU (a decode of them, 0.2 s). Its
    acoustic model and feature settings are the engine's own; with no
    language model or dictionary it takes 3 MB.
    """

    def __init__(self):
        self._decoder = pocketsphinx.Decoder(samprate=SAMPLE_RATE, loglevel="FATAL", lm=None,
                                             dict=os.devnull, ds=50)
        self._decoder.add_word("oh", "OW", True)
        self._decoder.add_jsgf_string("one-word", "#JSGF V1.0; grammar one; public <word> = oh;")
        self._decoder.activate_search("one-word")

    def of(self, pcm: bytes) -> str:
        """The mean, as `Decoder.set_cmn` takes it."""
        self._decoder.reinit_feat()
        self._decoder.start_utt()
        self._decoder.process_raw(pcm, True, True)  # features only, normalised as one block
        mean = self._decoder.get_cmn(False)
        self._decoder.end_utt()
        return mean


class PocketSphinxEngine:
    name = "pocketsphinx"

    def __init__(self):
        pocketsphinx.set_loglevel("FATAL")
        # (when it was let go, decoder), oldest first
        self._idle = [(time.monotonic(), _new_decoder())]
        self._mean = CepstralMean()

    def open(self) -> "PocketSphinxRecognizer":
        decoder = self._idle.pop()[1] if self._idle else _new_decoder()
        # Back to the model's generic mean, and to whole-utterance normalisation.
        decoder.reinit_feat()
        return PocketSphinxRecognizer(decoder, self._mean, self._release)

    def trim(self, idle_seconds: float) -> bool:
        """Free the idle decoders let go more than `idle_seconds` ago, but for the last used;
        whether any was."""
        stale, idle = time.monotonic() - idle_seconds, len(self._idle)
        while len(self._idle) > IDLE_DECODERS_KEPT and self._idle[0][0] < stale:
            del self._idle[0]
        return len(self._idle) < idle

    def _release(self, decoder: pocketsphinx.Decoder) -> None:
        self._idle.append((time.monotonic(), decoder))


class PocketSphinxRecognizer:
    """Live decoding, but for a session's opening, decoded once its own mean is known.

    PocketSphinx normalises the audio by its cepstral mean. Live, that mean
    starts from the model's generic guess and only moves after several
    seconds, so the first sentences of a session are heard badly ("the mr
    john dashwood" for "and mister john dashwood"). An offline decode
    normalises each utterance by its own mean.

    So the session's first two seconds of speech are only kept; then their
    mean is taken (CepstralMean) and they are decoded with it, and live
    decoding goes on from there. A first utterance shorter than that is
    decoded as a whole when it ends. The mean then follows the speaker from
    utterance to utterance. The opening has no partial hypothesis: decoding
    it live as well, for partials only, cost a session of a few seconds half
    as much CPU again (it was so until the server had to sustain 12 sessions
    of read speech on 2 cores). Its decoding is spread over the pieces of new
    audio, CATCH_UP_RATE times each piece's length, so that the other sessions
    of the worker process are not held up for the whole of it. A mean from
    1.5 s or 1 s of speech loses words, and so does giving the live decoder
    the mean of the speech so far as it grows (31% of words wrong on the
    bench's recordings instead of 25%).
    """

    def __init__(self, decoder: pocketsphinx.Decoder, mean: CepstralMean, release):
        self._decoder = decoder
        self._mean = mean
        self._release = release
        self._opening = bytearray()  # the session's first speech, until it has primed the mean
        self._primed = False
        self._behind = bytearray()  # audio to decode before new audio, while catching up
        self._in_utterance = False

    def start_utterance(self) -> None:
        self._decoder.start_utt()
        self._in_utterance = True

    def accept(self, pcm: bytes) -> None:
        if self._behind:
            self._behind += pcm
            self._catch_up(CATCH_UP_RATE * len(pcm))
        elif self._primed:
            self._decoder.process_raw(pcm, False, False)
        else:
            self._opening += pcm
            if len(self._opening) >= PRIMING_BYTES:
                self._prime()

    def _prime(self) -> None:
        """Normalise by the opening's own mean from now on, the opening still to decode."""
        self._decoder.set_cmn(self._mean.of(bytes(self._opening)))
        self._behind, self._opening = self._opening, bytearray()
        self._primed = True

    def _catch_up(self, most: int) -> None:
        self._decoder.process_raw(bytes(self._behind[:most]), False, False)
        del self._behind[:most]

    def hypothesis(self) -> str:
        if self._behind or not self._primed:
            return ""  # nothing decoded yet, or a start that the rest of the opening may change
        hypothesis = self._decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""

    def end_utterance(self) -> str:
        if not self._primed and self._opening:
            self._prime()
        if self._behind:
            self._catch_up(len(self._behind))
        self._decoder.end_utt()
        self._in_utterance = False
        return self.hypothesis()

    def close(self) -> None:
        if self._decoder is not None:
            if self._in_utterance:  # the client left mid-sentence
                self._decoder.end_utt()
            self._release(self._decoder)
            self._decoder = None
