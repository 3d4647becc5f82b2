"""Boundary import (街道、社区、网格) from the files surveying offices deliver: upload, mapping of
columns, a preview on the map with the hierarchy checks, then one all-or-nothing write as a
background job; the same steps run from ``gridmap boundaries import``."""
