"""Lost connections: reconnects, replay, live inputs while the connection is down."""
