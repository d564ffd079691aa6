"""The fixed vocabulary of the benchmark data set: channels, locations, countries, names, product families.

Everything here is small and static; bench/lib/dataset.py draws from it. Postcodes
follow each country's real format (app.domain.review checks them), e-mail
addresses use the reserved example.* domains.
"""

from __future__ import annotations

import random
import string

# --- Sales channels (app.models.catalog.Channel) --------------------------------------

# code, name, kind, dispatch SLA hours, warn %, auto-cancel hours (None: never), routing, share of orders
CHANNELS = [
    ("webstore", "OrderDeck Web Store", "webstore", 48, 80, 72, "single_first", 40),
    ("amazon", "Amazon Marketplace", "marketplace", 48, 80, None, "priority_split", 25),
    ("bol", "bol.com Marketplace", "marketplace", 24, 75, None, "single_first", 12),
    ("ebay", "eBay", "marketplace", 72, 80, None, "single_first", 8),
    ("wholesale", "Wholesale (B2B)", "wholesale", 120, 80, None, "single_first", 5),
    ("pos", "Shop counter", "pos", 24, 80, 72, "single_first", 10),
]
MARKETPLACE_PAYOUT = {"amazon": "amazon-payout", "bol": "bol-payout", "ebay": "ebay-managed-payments"}

# --- Locations (app.models.catalog.Location) ------------------------------------------

# code, name, kind, regions served, priority, timezone, cut-off
LOCATIONS = [
    ("NL-RTM", "Rotterdam Warehouse", "warehouse", ["NL", "BE", "LU"], 10, "Europe/Amsterdam", "16:00"),
    ("DE-LEJ", "Leipzig Warehouse", "warehouse", ["DE", "AT", "CH", "PL"], 20, "Europe/Berlin", "15:00"),
    ("FR-LYS", "Lyon Warehouse", "warehouse", ["FR"], 25, "Europe/Paris", "15:00"),
    ("ES-MAD", "Madrid 3PL", "3pl", ["ES", "PT"], 30, "Europe/Madrid", "14:00"),
    ("IT-MXP", "Milan 3PL", "3pl", ["IT"], 35, "Europe/Rome", "14:00"),
    ("GB-LON", "London Store", "store", ["GB"], 40, "Europe/London", "17:00"),
    ("US-NJ", "New Jersey 3PL", "3pl", ["US"], 30, "America/New_York", "14:00"),
    ("US-LAX", "Los Angeles 3PL", "3pl", ["US-CA", "US-WA", "US-OR"], 35, "America/Los_Angeles", "14:00"),
    ("CA-YYZ", "Toronto 3PL", "3pl", ["CA"], 40, "America/Toronto", "14:00"),
    ("AU-SYD", "Sydney 3PL", "3pl", ["AU"], 50, "Australia/Sydney", "13:00"),
]

# --- Countries ----------------------------------------------------------------------------

# code: (share of customers, currency, (standard, reduced) VAT in basis points, locations best first)
COUNTRIES = {
    "NL": (20, "EUR", (2100, 900), ("NL-RTM", "DE-LEJ")),
    "BE": (7, "EUR", (2100, 600), ("NL-RTM", "FR-LYS")),
    "DE": (18, "EUR", (1900, 700), ("DE-LEJ", "NL-RTM")),
    "AT": (4, "EUR", (2000, 1000), ("DE-LEJ", "IT-MXP")),
    "FR": (9, "EUR", (2000, 550), ("FR-LYS", "NL-RTM")),
    "ES": (5, "EUR", (2100, 1000), ("ES-MAD", "FR-LYS")),
    "IT": (5, "EUR", (2200, 1000), ("IT-MXP", "FR-LYS")),
    "GB": (10, "GBP", (2000, 0), ("GB-LON", "NL-RTM")),
    "US": (16, "USD", (0, 0), ("US-NJ", "US-LAX")),
    "CA": (3, "CAD", (0, 0), ("CA-YYZ", "US-NJ")),
    "AU": (3, "AUD", (1000, 0), ("AU-SYD", "US-LAX")),
}
WEST_COAST = {"CA", "WA", "OR"}  # US states served from Los Angeles first

# city, region, postcode kind (see postcode())
CITIES = {
    "NL": [
        ("Amsterdam", None, "nl"),
        ("Rotterdam", None, "nl"),
        ("Utrecht", None, "nl"),
        ("Den Haag", None, "nl"),
        ("Eindhoven", None, "nl"),
        ("Groningen", None, "nl"),
    ],
    "BE": [("Brussel", None, "d4"), ("Antwerpen", None, "d4"), ("Gent", None, "d4"), ("Leuven", None, "d4")],
    "DE": [
        ("Berlin", None, "d5"),
        ("Hamburg", None, "d5"),
        ("München", None, "d5"),
        ("Köln", None, "d5"),
        ("Leipzig", None, "d5"),
        ("Stuttgart", None, "d5"),
    ],
    "AT": [("Wien", None, "d4"), ("Graz", None, "d4"), ("Linz", None, "d4"), ("Salzburg", None, "d4")],
    "FR": [("Paris", None, "d5"), ("Lyon", None, "d5"), ("Lille", None, "d5"), ("Bordeaux", None, "d5")],
    "ES": [("Madrid", None, "es"), ("Barcelona", None, "es"), ("Valencia", None, "es"), ("Sevilla", None, "es")],
    "IT": [("Milano", None, "d5"), ("Roma", None, "d5"), ("Torino", None, "d5"), ("Bologna", None, "d5")],
    "GB": [
        ("London", None, "gb"),
        ("Manchester", None, "gb"),
        ("Bristol", None, "gb"),
        ("Leeds", None, "gb"),
        ("Edinburgh", None, "gb"),
    ],
    "US": [
        ("New York", "NY", "d5"),
        ("Boston", "MA", "d5"),
        ("Chicago", "IL", "d5"),
        ("Austin", "TX", "d5"),
        ("Seattle", "WA", "d5"),
        ("Los Angeles", "CA", "d5"),
        ("Portland", "OR", "d5"),
        ("Denver", "CO", "d5"),
    ],
    "CA": [("Toronto", "ON", "ca"), ("Montréal", "QC", "ca"), ("Vancouver", "BC", "ca"), ("Calgary", "AB", "ca")],
    "AU": [("Sydney", "NSW", "d4"), ("Melbourne", "VIC", "d4"), ("Brisbane", "QLD", "d4"), ("Perth", "WA", "d4")],
}
STREETS = {
    "NL": ["Kerkstraat", "Prinsengracht", "Dorpsstraat", "Stationsweg", "Molenweg", "Lindenlaan"],
    "BE": ["Kerkstraat", "Stationsstraat", "Rue de la Loi", "Meir", "Veldstraat"],
    "DE": ["Hauptstraße", "Schulstraße", "Bahnhofstraße", "Gartenstraße", "Goethestraße"],
    "AT": ["Mariahilfer Straße", "Landstraße", "Herrengasse", "Bahnhofstraße"],
    "FR": ["rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Voltaire"],
    "ES": ["Calle Mayor", "Gran Vía", "Calle de Alcalá", "Avenida de la Constitución"],
    "IT": ["Via Roma", "Corso Italia", "Via Garibaldi", "Via Mazzini"],
    "GB": ["High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane"],
    "US": ["Maple Avenue", "Oak Street", "Washington Street", "Park Avenue", "Elm Street"],
    "CA": ["King Street", "Queen Street", "Yonge Street", "Main Street"],
    "AU": ["George Street", "Collins Street", "Queen Street", "Hay Street"],
}
FIRST_NAMES = [
    "Sanne",
    "Daan",
    "Emma",
    "Lars",
    "Sophie",
    "Bram",
    "Lotte",
    "Thijs",
    "Anouk",
    "Jeroen",
    "Lucas",
    "Louise",
    "Arthur",
    "Elise",
    "Lukas",
    "Anna",
    "Jonas",
    "Lea",
    "Felix",
    "Hannah",
    "Léa",
    "Hugo",
    "Chloé",
    "Manon",
    "Lucía",
    "Pablo",
    "Giulia",
    "Marco",
    "Oliver",
    "Amelia",
    "George",
    "Isla",
    "James",
    "Olivia",
    "Michael",
    "Ava",
    "Ethan",
    "Mia",
    "Noah",
    "Charlotte",
    "Liam",
    "Grace",
    "Jack",
    "Chloe",
    "William",
    "Zoe",
]
LAST_NAMES = [
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "Peeters",
    "Janssens",
    "Maes",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Gruber",
    "Huber",
    "Martin",
    "Bernard",
    "Dubois",
    "García",
    "Fernández",
    "Rossi",
    "Russo",
    "Ferrari",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Miller",
    "Davis",
    "Garcia",
    "Rodriguez",
    "Anderson",
    "Thomas",
    "Tremblay",
    "Roy",
    "Nguyen",
    "Kelly",
    "Walker",
    "Hughes",
]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]
WHOLESALE_SHARE = 0.01  # customers that are shops (they order on the wholesale channel)

# --- Products --------------------------------------------------------------------------------

# family code, name, reduced VAT?, base price in cents, weight in g
FAMILIES = [
    ("TEE", "Organic Cotton Tee", False, 2495, 180),
    ("SWT", "Merino Crew Sweater", False, 8995, 320),
    ("HOD", "Fleece Hoodie", False, 6495, 540),
    ("JKT", "Recycled Down Jacket", False, 18900, 780),
    ("CHN", "Chino Trousers", False, 7995, 450),
    ("SCK", "Bamboo Socks 3-Pack", False, 1795, 120),
    ("SNK", "Canvas Sneaker", False, 8495, 850),
    ("BNE", "Wool Beanie", False, 2995, 90),
    ("SCF", "Wool Scarf", False, 5495, 180),
    ("BLT", "Leather Belt", False, 4995, 210),
    ("MUG", "Stoneware Mug", False, 1495, 380),
    ("PLT", "Stoneware Plate", False, 1995, 620),
    ("BWL", "Stoneware Bowl", False, 1695, 420),
    ("KNF", "Chef's Knife", False, 8900, 260),
    ("BRD", "Olive Wood Board", False, 4495, 900),
    ("SKL", "Cast Iron Skillet", False, 5995, 2600),
    ("THR", "Wool Throw", False, 11900, 1400),
    ("BTL", "Insulated Bottle", False, 3295, 390),
    ("TWL", "Cotton Bath Towel", False, 2995, 650),
    ("CDL", "Beeswax Candle", False, 1895, 300),
    ("COF", "Single-Origin Coffee", True, 1295, 270),
    ("TEA", "Loose-Leaf Tea", True, 995, 120),
    ("CHO", "Dark Chocolate Bar", True, 395, 100),
    ("BOK", "Field Notes Book", True, 2495, 450),
    ("NTB", "Dot Grid Notebook", False, 1695, 280),
    ("PEN", "Brass Pen", False, 3495, 40),
    ("BAG", "Waxed Canvas Tote", False, 5995, 620),
    ("BPK", "Roll-Top Backpack", False, 12900, 980),
    ("LMP", "Ceramic Table Lamp", False, 9995, 2100),
    ("PLN", "Terracotta Planter", False, 2495, 1300),
]
COLOURS = ["Black", "White", "Navy", "Sage", "Rust", "Oat", "Slate", "Sand", "Forest", "Clay", "Ochre", "Coral"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL", "One size"]

CARRIERS = ["PostNL", "DHL", "DPD", "UPS", "FedEx", "USPS", "Royal Mail", "Canada Post", "Australia Post"]
PAYMENT_METHODS = ["card", "paypal", "ideal", "klarna", "bank_transfer", "apple_pay"]

HOLD_NOTES = {
    "address": "Postcode does not match the city.",
    "review": "Price differs from the catalogue by more than the channel allows.",
    "manual": "Customer asked us to wait before shipping.",
    "payment": "Partly paid; waiting for the rest.",
    "stock": "Waiting for stock.",
}

_UPPER = string.ascii_uppercase
_CA_FIRST = "ABCEGHJKLMNPRSTVXY"
_CA_OTHER = "ABCEGHJKLMNPRSTVWXYZ"
_GB_AREAS = ["E", "N", "SE", "SW", "W", "NW", "EC", "M", "BS", "LS", "EH"]


def postcode(rng: random.Random, kind: str) -> str:
    """A postcode in the country's own format (what app.domain.review accepts)."""
    if kind == "nl":
        return f"{rng.randint(1000, 9999)} {rng.choice(_UPPER)}{rng.choice(_UPPER)}"
    if kind == "d4":
        return str(rng.randint(1000, 9999))
    if kind == "d5":
        return f"{rng.randint(1001, 99999):05d}"
    if kind == "es":
        return f"{rng.randint(1, 52):02d}{rng.randint(0, 999):03d}"
    if kind == "gb":
        return (
            f"{rng.choice(_GB_AREAS)}{rng.randint(1, 20)} {rng.randint(1, 9)}{rng.choice(_UPPER)}{rng.choice(_UPPER)}"
        )
    if kind == "ca":
        return (
            f"{rng.choice(_CA_FIRST)}{rng.randint(0, 9)}{rng.choice(_CA_OTHER)} "
            f"{rng.randint(0, 9)}{rng.choice(_CA_OTHER)}{rng.randint(0, 9)}"
        )
    raise ValueError(kind)


def ean13(body12: str) -> str:
    """A 12-digit body with its EAN-13 check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)
