"""报表: monthly and quarterly reports of a community or the subdistrict, as Excel and PDF."""
