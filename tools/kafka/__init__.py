"""Apache Kafka native test harness (see harness.py)."""
