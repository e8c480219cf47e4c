"""Domain of after-sales service certification: tables, scoring, code validation."""
