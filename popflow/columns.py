"""Column names used across the lake, the indicators and the outputs, declared once."""

# Pseudonymised person key in every person-level lake table (64-bit keyed HMAC-SHA256).
PERSON = "person"

# Areas
AREA_ID = "area_id"
NAME = "name"
PARENT_ID = "parent_id"
LEVEL = "level"
GEOMETRY = "geometry"

# Cells
CELL_ID = "cell_id"
LATITUDE = "latitude"
LONGITUDE = "longitude"
VALID_FROM = "valid_from"
VALID_TO = "valid_to"

# Subscribers
GENDER = "gender"
BIRTH_YEAR = "birth_year"
AGE_BAND = "age_band"
ORIGIN_REGION = "origin_region"
REGISTERED_ON = "registered_on"

# Events
TIMESTAMP = "timestamp"
LOCAL_EPOCH = "t"  # local wall-clock seconds since 1970-01-01 00:00 local time
DATE = "date"
EVENT_TYPE = "event_type"
MCC = "mcc"

# Population
POPULATION = "population"
ADULTS = "adults"

BREAKDOWNS = (GENDER, AGE_BAND, ORIGIN_REGION)
UNKNOWN = "unknown"

# Quarantine
SOURCE = "source"
FILE = "file"
LINE = "line"
REASON = "reason"
COLUMN = "column"
RECORD = "record"
