"""Running gridmap in production (运维): the deployment check, backups and restores."""
