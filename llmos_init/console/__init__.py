"""The natural-language console: line editor (lineedit), terminal I/O (term), history,
session loop (session), renderer (render) and `python -m llmos_init console` (main)."""
