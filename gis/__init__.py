"""Pure spatial logic: shapely, pyproj and the standard library; no Flask, no database."""
