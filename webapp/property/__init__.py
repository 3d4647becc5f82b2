"""红色物业: property-service ratings per quarter, their consequences, the service-room standard."""
