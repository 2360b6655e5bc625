"""Ranking buildings for a lead and leads for a building."""
