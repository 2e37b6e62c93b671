"""Batch transcription: many files, several at a time, into a directory or onto stdout.

- `plan` finds the files (directories recursively) and names each one's output;
- `outputs` writes each output under a temporary name until it is complete,
  or the lines of every file onto stdout, whole lines only;
- `run` runs the files on a thread pool, each worker in the role a session's
  main thread has in a single run; Ctrl-C is handled by the real main thread;
- `summary` turns what became of each file into one line and an exit status;
- `progress` draws one bar for the whole batch.
"""
