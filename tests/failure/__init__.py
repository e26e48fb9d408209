"""Failure tests on a 3-broker Apache Kafka cluster from the native harness (pytest -m failure)."""
