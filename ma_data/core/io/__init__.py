"""Shared media and file IO: one module per format, imported by every package."""
