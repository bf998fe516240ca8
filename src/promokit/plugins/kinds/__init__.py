"""Built-in discount kinds: one module each, registered like any plugin."""
