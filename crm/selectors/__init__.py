"""Read-side queries: what a user may see, and querysets ready for the pages and the API."""
