"""Charts (ECharts, static/js/charts.js) on the home pages and the big screen: their JSON data,
each figure counted in SQL within the user's area, and the daily camera snapshot they draw on."""
