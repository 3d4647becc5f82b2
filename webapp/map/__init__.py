"""综治一张图: the map screen, its layers by viewport, feature panels, search and 大屏."""
