"""One progress bar for a whole batch: audio seconds read of the total, files done, failures."""

from typing import Optional

from asrx_cli.config import TranscribeConfig
from asrx_cli.environment import Environment
from asrx_cli.output.progress import bar_wanted, seconds_bar


def batch_bar(config: TranscribeConfig, env: Environment, total_seconds: float, files: int):
    """A bar on a terminal stderr, unless the transcripts are drawn on the same terminal."""
    if total_seconds < 1 or not bar_wanted(config, env, config.output_dir is not None):
        return None
    return BatchBar(seconds_bar(env, round(total_seconds), decimals=0, postfix=" {postfix}"), files)


class BatchBar:
    def __init__(self, bar, files: int):
        self.bar = bar
        self.files = files
        self.shown: Optional[tuple] = None

    def update(self, seconds: float, files_done: int, failed: int):
        position = round(min(seconds, self.bar.total))
        if (position, files_done, failed) == self.shown:
            return
        self.shown = (position, files_done, failed)
        failures = f", {failed} failed" if failed else ""
        self.bar.set_postfix_str(f"{files_done}/{self.files} files{failures}", refresh=False)
        self.bar.n = position
        self.bar.refresh()

    def close(self):
        self.bar.close()
