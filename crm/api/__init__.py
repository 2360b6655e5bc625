"""The REST API under /api/v1/: agencies submit and follow leads, staff work through the same endpoints."""
