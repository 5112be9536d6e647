"""Data lifecycle (SPEC.md §6): retention erasure, holds, subject access and erasure."""
