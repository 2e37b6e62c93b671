"""The network: opening a WebSocket (through a proxy when the environment names one) and using
it."""
