"""What the user sees: transcripts on stdout or in files, and the status lines on stderr."""
