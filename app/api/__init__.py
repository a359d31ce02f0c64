"""api routes."""
