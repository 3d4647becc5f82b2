"""The public lookup page (我的网格 · 身边服务): no login, published information only."""
