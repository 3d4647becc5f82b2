"""Patrol planning: camera coverage and blind spots, police-room reach, patrol routes."""
