"""Storage behind one narrow interface; SQLite (sqlite-utils) is the embedded default."""
