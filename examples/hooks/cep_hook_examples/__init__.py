"""Small, complete plugins, one per theme, whose hooks are the examples of docs/plugins.md."""
