"""The console's vocabulary (shared/spec/actions.md) and the executors behind it."""
