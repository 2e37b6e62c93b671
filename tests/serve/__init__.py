"""A local server: asrx serve, its engine, limits and hostile clients."""
