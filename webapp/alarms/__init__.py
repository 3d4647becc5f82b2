"""The wall's live alarm ticker: new events, cameras going offline, events passing their time
limit, pushed as Server-Sent Events (webapp/alarms/views.py)."""
