"""Many files: batches, their outputs and summaries, Ctrl-C and reruns."""
