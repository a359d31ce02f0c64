"""staff routes."""
