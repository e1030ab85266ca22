"""Judging videos: exact per-task checkers, a task-agnostic scorer, a VLM judge, human review."""

SCORER_CHOICES = ("auto", "exact", "similarity", "vlm")  # what `vmevalkit score --scorer` accepts
