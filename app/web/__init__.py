"""web routes."""
