"""backaudit: a lifestyle audit for low back pain with red-flag triage."""

__version__ = "0.1.0"
