"""Set-up, configuration and exit statuses: installing, the key, completion, the docs."""
