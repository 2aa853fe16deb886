"""One module per figure: draw(data, scale) -> matplotlib Figure; common.py holds the shared helpers."""
