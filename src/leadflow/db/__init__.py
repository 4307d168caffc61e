"""Database base classes, engine, sessions and migrations."""
