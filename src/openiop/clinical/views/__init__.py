"""Thin HTTP for clinical documentation: parse, call a service or selector, render."""
