"""wirewatch: a streaming news processor (see streams/ and agents/)."""

__version__ = "0.1.0"
