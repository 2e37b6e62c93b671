"""Output: text, JSON Lines, subtitles, their timing on the speech, --stats."""
