"""The transcript as the main thread reads it: events from the server's frames, speech times,
figures."""
