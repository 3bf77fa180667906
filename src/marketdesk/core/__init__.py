"""Shared kernel: users, base models, numbering, masking, attachments, timeline, notifications,
spreadsheets, background jobs and UI parts used by every app."""
