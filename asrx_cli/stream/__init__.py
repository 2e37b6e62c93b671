"""One stream to the server and its threads: the sender, the main thread's view of it, reconnects.

`session.Session` runs on the main thread; `sender.Sender` is the sender
thread; `feed.Feed` hands the decoder thread's frames to the sender of each
session and keeps them to be sent again; `reconnect` decides what a lost
session means; `interrupt` turns Ctrl-C and SIGTERM into a flag.
"""
