"""Domain rules as plain functions and values: no Flask, no database."""
