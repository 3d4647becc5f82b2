"""Service circles (服务圈): walking catchments over the street network, and road import."""
