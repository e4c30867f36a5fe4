"""Fine-tuning the planner's model to write canonical commands (see canonical.py).

Runs in its own venv (.venv-train, `make train`), never in the image or in `make test`.
"""
