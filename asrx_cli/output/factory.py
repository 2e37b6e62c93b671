"""The renderer a run's settings ask for."""

from typing import Optional, TextIO

from asrx_cli.output.render import JsonRenderer, LineRenderer, LiveRenderer, RawRenderer, Renderer


def make_renderer(output_format: str, out: TextIO, live: bool, partials: bool, columns: int,
                  line_width: Optional[int] = None, cue_lines: int = 2) -> Renderer:
    if output_format == "json":
        return JsonRenderer(out, partials)
    if output_format == "raw":
        return RawRenderer(out)
    if output_format in ("srt", "vtt"):
        # regex, its tables and the line breaker: only for subtitles
        from asrx_cli.output.subtitles import CueStyle, SubtitleRenderer

        return SubtitleRenderer(out, output_format, CueStyle(line_width, cue_lines))
    if live:
        return LiveRenderer(out, columns, partials)
    return LineRenderer(out)
