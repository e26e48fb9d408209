"""The Faust agents (thin) and the pure logic they call."""
