"""Names, places and code frequencies that the synthetic district draws from.

The name lists deliberately mix scripts and punctuation (José, Zoë, Nguyễn, Müller, 山田, O'Brien)
and hold a few family names with a comma ("Smith, Jr."), so that every generated package exercises
UTF-8 handling and CSV quoting. Codes are checked against ``homeroom.model.reference`` by the tests.
"""

from __future__ import annotations

import numpy as np

GIVEN_NAMES: tuple[str, ...] = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofia", "Ethan", "Isabella", "Lucas",
    "Mia", "James", "Amelia", "Benjamin", "Harper", "Elijah", "Evelyn", "Henry", "Abigail", "Jack",
    "Aarav", "Priya", "Wei", "Mei", "Hiroshi", "Yuki", "José", "Zoë", "Chloé", "Renée",
    "Amélie", "François", "Björn", "Søren", "Åsa", "Jürgen", "Łukasz", "Zoltán", "Ngozi", "Kwame",
    "Aisha", "Fatima", "Mohammed", "Omar", "Layla", "Siobhán", "Seán", "Dmitri", "Анна", "Thảo",
    "Minh", "Hana", "Ji-woo", "Seo-yeon", "Maximilian", "Inés", "Ángel", "Camila", "Santiago", "Valentina",
    "Elif", "Zeynep", "Kai", "Leilani", "Ayşe", "Mary-Kate", "D'Andre", "Jean-Luc", "太郎", "花子",
)

FAMILY_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
    "García", "Martínez", "Rodríguez", "Hernández", "López", "González", "Nguyễn", "Trần", "Lê", "Müller",
    "Schröder", "Groß", "O'Brien", "O'Connor", "D'Angelo", "Kowalski", "Wiśniewska", "Dubois", "Lefèvre", "Rossi",
    "Ivanov", "Okafor", "Mensah", "Patel", "Singh", "Kim", "Lee", "Park", "Chen", "Wang",
    "Li", "Zhang", "Tanaka", "山田", "田中", "佐藤", "Silva", "Pereira", "Johansson", "Ødegaard",
    "Nakamura", "Haddad", "Khan", "Cohen", "Murphy", "Walker", "Young", "Allen", "King", "Torres",
)
#: Family names that contain a comma; drawn rarely, but often enough that quoting is always exercised.
FAMILY_NAMES_WITH_COMMA: tuple[str, ...] = ("Smith, Jr.", "Brown, III", "Garza, Sr.")
FAMILY_NAME_WITH_COMMA_SHARE = 0.004

SCHOOL_PLACES: tuple[str, ...] = (
    "Lincoln", "Washington", "Jefferson", "Roosevelt", "Cedar Ridge", "Maple Grove", "Lakeview", "Riverside",
    "Sunnyside", "Evergreen", "Mount Rainier", "Cascade", "Pioneer", "Olympic View", "Bridgeport", "Hillcrest",
    "Oakwood", "Pine Lake", "Greenwood", "Harbor", "Canyon", "Meadowbrook", "Cañada", "Coeur d'Alene",
    "São Miguel", "Kamiak", "Tahoma", "Chinook", "Sacajawea", "Whitman", "Dr. Martin Luther King, Jr.", "Ōtani",
)

#: (city, state or region, country) of birth; US cities first and most frequent.
BIRTH_PLACES: tuple[tuple[str, str, str], ...] = (
    ("Seattle", "WA", "USA"), ("Tacoma", "WA", "USA"), ("Spokane", "WA", "USA"), ("Bellevue", "WA", "USA"),
    ("Portland", "OR", "USA"), ("Los Angeles", "CA", "USA"), ("San José", "CA", "USA"), ("Houston", "TX", "USA"),
    ("Chicago", "IL", "USA"), ("New York", "NY", "USA"), ("Washington, D.C.", "DC", "USA"), ("Honolulu", "HI", "USA"),
    ("Anchorage", "AK", "USA"), ("Ciudad de México", "CDMX", "MEX"), ("Guadalajara", "JAL", "MEX"),
    ("Hà Nội", "", "VNM"), ("Thành phố Hồ Chí Minh", "", "VNM"), ("Manila", "", "PHL"), ("München", "BY", "DEU"),
    ("Kraków", "", "POL"), ("Mumbai", "MH", "IND"), ("東京", "", "JPN"), ("Seoul", "", "KOR"), ("Lagos", "LA", "NGA"),
    ("Toronto", "ON", "CAN"), ("Montréal", "QC", "CAN"),
)
US_BIRTH_PLACES = 13  # the first entries are US cities
US_BIRTH_SHARE = 0.85

#: Grade codes of students, by grade number (0 = kindergarten).
STUDENT_GRADES: tuple[str, ...] = ("KG", *(f"{g:02d}" for g in range(1, 13)))
GRADE_TITLES: tuple[str, ...] = ("Kindergarten", *(f"Grade {g}" for g in range(1, 13)))

#: School bands: (name suffix, lowest grade, highest grade, relative enrolment per school).
SCHOOL_BANDS: tuple[tuple[str, int, int, float], ...] = (
    ("Elementary School", 0, 5, 0.8),
    ("Middle School", 6, 8, 1.1),
    ("High School", 9, 12, 1.6),
    ("K-12 School", 0, 12, 1.0),
)
#: Share of schools in each of the first three bands (a small district has only K-12 schools).
SCHOOL_BAND_SHARES = (0.55, 0.2, 0.25)

#: Course subjects (RefAcademicSubject codes) in the order a grade's courses take them: core subjects
#: first, so a grade with few courses teaches English, mathematics, science and social studies.
SUBJECTS_BY_PRIORITY: tuple[str, ...] = ("01", "02", "03", "04", "05", "08", "24", "10", "12", "21")

#: Staff roles (RefRole codes) of staff members other than each school's first teacher and principal.
STAFF_ROLE_SHARES: dict[str, float] = {
    "teacher": 0.72, "aide": 0.06, "officeStaff": 0.05, "specialServices": 0.04, "paraprofessional": 0.03,
    "administrator": 0.03, "nurse": 0.02, "coach": 0.02, "advisor": 0.02, "itAdmin": 0.01,
}

SEX_SHARES: dict[str, float] = {"female": 0.49, "male": 0.49, "notSelected": 0.02}
HISPANIC_SHARE = 0.27

#: raceCodes values (RefRace codes, a few as two-code lists) and their frequency; "" leaves it blank.
RACE_CODE_SHARES: dict[str, float] = {
    "white": 0.43, "blackOrAfricanAmerican": 0.14, "asian": 0.13, "americanIndianOrAlaskaNative": 0.02,
    "nativeHawaiianOrOtherPacificIslander": 0.01, "demographicRaceTwoOrMoreRaces": 0.12,
    "asian,white": 0.04, "blackOrAfricanAmerican,white": 0.03, "americanIndianOrAlaskaNative,white": 0.02, "": 0.06,
}

FLAG_SHARES: dict[str, float] = {
    "freeLunch": 0.30, "iep": 0.20, "ell": 0.15, "reducedLunch": 0.10, "504": 0.10,
    "giftedOrTalented": 0.10, "homeless": 0.03, "lep": 0.02,
}
STUDENTS_WITH_FLAG_SHARE = 0.15

RELATIONSHIP_ROLE_SHARES: dict[str, float] = {"parent": 0.78, "guardian": 0.17, "relative": 0.05}


def shares(table: dict[str, float]) -> tuple[list[str], np.ndarray]:
    """The codes of a share table and their probabilities, normalised to sum to exactly 1."""
    codes = list(table)
    weights = np.array([table[c] for c in codes], dtype=np.float64)
    return codes, weights / weights.sum()


def family_name_shares() -> tuple[list[str], np.ndarray]:
    """All family names and their probabilities: comma names share ``FAMILY_NAME_WITH_COMMA_SHARE``."""
    names = [*FAMILY_NAMES, *FAMILY_NAMES_WITH_COMMA]
    plain = (1 - FAMILY_NAME_WITH_COMMA_SHARE) / len(FAMILY_NAMES)
    comma = FAMILY_NAME_WITH_COMMA_SHARE / len(FAMILY_NAMES_WITH_COMMA)
    weights = np.array([plain] * len(FAMILY_NAMES) + [comma] * len(FAMILY_NAMES_WITH_COMMA))
    return names, weights / weights.sum()
