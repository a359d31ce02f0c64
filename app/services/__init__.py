"""Services: plain functions that do the work. They never commit; the request boundary does."""
