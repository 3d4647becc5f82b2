"""巡查打卡 and the grid worker's 工作台 (issue 17): walks, check-ins, street coverage, the
hour-a-day rule, and today's work in one place."""
