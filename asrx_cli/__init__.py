"""asrx: real-time speech recognition from the command line over the ASRX protocol."""

__version__ = "0.1.0"
