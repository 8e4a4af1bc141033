"""The catalogues, the active language, and reading Welsh sheets."""
