"""Reference data the project ships: the sections and divisions of GB/T 4754-2017 as Python data
(industries.py, loaded by a migration), and the standard's text the industry classifier learns from
(gbt4754-2017-text.csv, read through importlib.resources, so it travels as package data)."""
