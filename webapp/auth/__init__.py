"""Login, logout and accounts."""
