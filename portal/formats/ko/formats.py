# Korean dates by CLDR ko: year, month, day, then 오전/오후 BEFORE the hour
# ("2026. 12. 2. 오전 5:25", "2026년 12월 2일 (수) 오전 5:25"). The zone is added by portal.when.
DATE_FORMAT = "Y년 n월 j일"
SHORT_DATE_FORMAT = "Y. n. j."
DATETIME_FORMAT = "Y년 n월 j일 l A g:i"
SHORT_DATETIME_FORMAT = "Y. n. j. A g:i"
TIME_FORMAT = "A g:i"
MONTH_DAY_FORMAT = "n월 j일"
YEAR_MONTH_FORMAT = "Y년 n월"
