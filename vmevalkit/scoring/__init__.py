"""Judging videos: exact per-task checkers, a task-agnostic scorer, a VLM judge, human review."""
