"""社区建设标准: each community against the plans' standards, and the share it meets."""
