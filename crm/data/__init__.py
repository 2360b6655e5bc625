"""Reference data the project ships as its own Python data (no files read at run time)."""
