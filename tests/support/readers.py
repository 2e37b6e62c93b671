"""Subtitle files read back by real readers: pysubs2, ffmpeg, Chromium's <track>."""

import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import threading

import pysubs2
import pytest

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None,
                                  reason="ffmpeg is not installed (Debian package ffmpeg)")
needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None,
                                    reason="chromium is not installed (Debian package chromium)")


def cues_of(path):
    """(start ms, end ms, text) of each cue, WebVTT's character references read."""
    return [(event.start, event.end, html.unescape(event.plaintext))
            for event in pysubs2.load(str(path)).events]


def ffmpeg_convert(source, target) -> subprocess.CompletedProcess:
    command = ["ffmpeg", "-nostdin", "-v", "warning", "-y", "-i", str(source), str(target)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


PAGE = """<!doctype html><meta charset="utf-8"><video muted></video><pre id="out">pending</pre>
<script>
const out = document.getElementById("out");
const track = document.createElement("track");
track.kind = "subtitles"; track.src = "NAME"; track.default = true;
track.addEventListener("load", () => {
  out.textContent = JSON.stringify([...track.track.cues].map(
    c => [c.startTime, c.endTime, c.getCueAsHTML().textContent]));
});
track.addEventListener("error", () => { out.textContent = "error"; });
document.querySelector("video").appendChild(track);
track.track.mode = "hidden";
</script>"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def chromium_cues(folder, name, profile):
    """(start s, end s, text) of each cue Chromium reads from folder/name as a <track>."""
    (folder / "page.html").write_text(PAGE.replace("NAME", name), encoding="utf-8")
    handler = functools.partial(QuietHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            dom = subprocess.run(
                ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--no-first-run", f"--user-data-dir={profile}",
                 "--virtual-time-budget=10000",
                 "--dump-dom", f"http://127.0.0.1:{server.server_address[1]}/page.html"],
                capture_output=True, text=True, timeout=60).stdout
        finally:
            server.shutdown()
    shown = html.unescape(re.search(r'<pre id="out">(.*?)</pre>', dom, re.DOTALL).group(1))
    return shown if shown in ("pending", "error") else [tuple(cue) for cue in json.loads(shown)]
