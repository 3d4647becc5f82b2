"""12345 热线接口: outside systems push tickets into the event loop and read their outcomes."""
