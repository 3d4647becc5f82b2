"""平安创建: campaigns per map feature, their workflow and inspections, and the campaign map."""
