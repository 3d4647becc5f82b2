"""The subdistrict at a glance: the page a user lands on after login."""
