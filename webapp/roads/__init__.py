"""The road network's import (道路导入): files read by gis/roads.py, written as nodes and
segments, and the catchments they change recomputed."""
