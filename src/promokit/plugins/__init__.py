"""Built-in plugins: registered by the same plugin manager as third-party ones."""
