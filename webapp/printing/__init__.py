"""Paper output: the map view as an A4/A3 PDF, and the PDF engine the reports share."""
