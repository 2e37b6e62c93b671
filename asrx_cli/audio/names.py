"""Which file names say audio: a file so named that cannot be read is a failure, not a stranger."""

from pathlib import Path

RAW_SUFFIXES = frozenset({".pcm", ".raw"})

# What libsndfile reads, and the common audio and video containers (some of them it
# cannot decode: such a file fails with its reason rather than being passed over).
AUDIO_SUFFIXES = RAW_SUFFIXES | frozenset(
    "." + name for name in (
        # libsndfile
        "wav wave bwf flac ogg oga opus mp3 mp2 mpga aif aiff aifc au snd caf w64 rf64 voc sd2 "
        "paf iff svx nist sph ircam sf mat mat4 mat5 pvf xi htk sds avr wve mpc "
        # other audio and video
        "m4a m4b aac wma amr 3gp 3g2 ac3 eac3 alac ape wv mka spx mp4 m4v mov mkv webm avi wmv "
        "flv ts mpg mpeg"
    ).split()
)


def named_as_audio(path: str) -> bool:
    return Path(path).suffix.lower() in AUDIO_SUFFIXES
