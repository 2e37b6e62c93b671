"""The commands of asrx, one module each."""
