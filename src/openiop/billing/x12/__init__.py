"""X12 5010 837I/837P writing and 835 reading."""
