"""The operations console (`mlc console`): a Textual app over the `Engine` protocol."""
