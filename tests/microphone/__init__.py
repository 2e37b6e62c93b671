"""Microphone: devices, capture, the level meter, live input."""
