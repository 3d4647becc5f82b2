"""OGC API – Features (Part 1 Core, GeoJSON) over the map layers, for desktop GIS."""
