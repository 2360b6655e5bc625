"""Server-rendered pages (Django templates + htmx) for promoters, street officers and the district office."""
