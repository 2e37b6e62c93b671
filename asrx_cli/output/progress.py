"""The progress bar on stderr, drawn by the main thread from the sender's news."""

from typing import Optional

from asrx_cli.config import TranscribeConfig
from asrx_cli.environment import Environment


def bar_wanted(config: TranscribeConfig, env: Environment, transcript_elsewhere: bool) -> bool:
    """A bar goes on a terminal stderr, unless -q, or the transcript is drawn on that terminal."""
    return (env.stderr_isatty and not config.quiet
            and (transcript_elsewhere or not env.stdout_isatty))


def progress_bar(config: TranscribeConfig, env: Environment, duration: Optional[float]):
    """A bar for audio of known length, where `bar_wanted` says so."""
    if not duration or not bar_wanted(config, env, config.output_path is not None):
        return None
    return ProgressBar(seconds_bar(env, round(duration, 1), decimals=1))


def seconds_bar(env: Environment, total: float, decimals: int, postfix: str = ""):
    """A tqdm bar on stderr counting seconds of audio, as wide as the terminal."""
    from tqdm import tqdm  # only when a bar is drawn: tqdm costs start-up time

    counts = f"{{n:.{decimals}f}}/{{total:.{decimals}f}} s"
    return tqdm(total=total, unit="s", file=env.stderr, leave=False, dynamic_ncols=True,
                bar_format="{l_bar}{bar}| " + counts + " [{elapsed}<{remaining}]" + postfix)


class ProgressBar:
    """Feeds absolute positions to tqdm, which counts increments."""

    def __init__(self, bar):
        self.bar = bar

    def update(self, seconds: float):
        position = round(min(seconds, self.bar.total), 1)
        if position > self.bar.n:
            self.bar.update(position - self.bar.n)

    def close(self):
        self.bar.close()
