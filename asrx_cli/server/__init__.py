"""`asrx serve`: a local ASRX server with an offline speech engine.

Kept free of heavy imports: the click command lives in
`asrx_cli/commands/serve.py` and loads websockets and the engine only when
the server starts.
"""
