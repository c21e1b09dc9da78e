"""Docking (对接): cases, meetings and events."""
