"""The renderer a run's settings ask for."""

from typing import TextIO

from asrx_cli.output.render import JsonRenderer, LineRenderer, LiveRenderer, RawRenderer, Renderer


def make_renderer(output_format: str, out: TextIO, live: bool, partials: bool, columns: int) -> Renderer:
    if output_format == "json":
        return JsonRenderer(out, partials)
    if output_format == "raw":
        return RawRenderer(out)
    if output_format in ("srt", "vtt"):
        from asrx_cli.output.subtitles import (
            SubtitleRenderer,  # regex and its tables: only for subtitles
        )

        return SubtitleRenderer(out, output_format)
    if live:
        return LiveRenderer(out, columns, partials)
    return LineRenderer(out)
