"""Helpers several test folders use: builders of inputs with known answers, hostile files, shared asserts."""
