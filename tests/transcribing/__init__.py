"""Transcribing: inputs, the wire, the CLI, servers that misbehave."""
