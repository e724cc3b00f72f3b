# English shows one date format everywhere (lists, detail pages, the Painel, exports list): "Dec 5, 2026",
# which no reader takes for 12 May the way "12/05/2026" could be. Input formats stay Django's English ones.
DATE_FORMAT = "M j, Y"
SHORT_DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y H:i"
SHORT_DATETIME_FORMAT = "M j, Y H:i"
