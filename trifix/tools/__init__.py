"""Tools for people working with FIX: the logic behind the small `trifix` commands.

Each tool is a typed, testable module; `trifix.cli` only parses arguments and writes output.
"""
