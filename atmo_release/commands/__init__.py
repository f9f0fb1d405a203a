"""Pure argv builders: commands are data, compared exactly in tests and stored in the record."""
