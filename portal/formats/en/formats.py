# English dates, unambiguous (CLDR en "medium"/"full" patterns): "Dec 2, 2026, 5:25 AM",
# "Wednesday, December 2, 2026, 5:25 AM". Never 12/02/2026, which half the world reads
# as the 12th of February. The zone is added by portal.when.
DATE_FORMAT = "N j, Y"
SHORT_DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "l, F j, Y, g:i A"
SHORT_DATETIME_FORMAT = "M j, Y, g:i A"
TIME_FORMAT = "g:i A"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
