"""llmos_init: PID 1, supervisor, natural-language console, planner, tools and syscall layer."""

__version__ = "0.1.0"
