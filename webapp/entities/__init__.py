"""Managing every map entity from side panels: lists, forms, geometry, permissions, audit."""
