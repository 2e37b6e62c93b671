"""Call recordings: one session per channel, agent and customer apart."""
