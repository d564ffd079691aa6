"""What the demo data is made of: channels, locations, places, names, products, carriers.

Postcodes come from each city's real range in the country's own format, so
labels and routing look right. E-mail addresses use the reserved example.com,
.net and .org domains: nothing generated here can reach a real person.
"""

from __future__ import annotations

import random
import string
from decimal import Decimal

# --- Sales channels and locations ---------------------------------------------

# Its presence is what tells a later run that the demo data is already loaded.
MARKER_CHANNEL = "webstore"

CHANNELS = [
    {"code": "webstore", "name": "OrderDeck Web Store", "kind": "webstore", "dispatch_sla_hours": 48,
     "dispatch_warn_pct": 80, "payment_reminder_1_hours": 24, "payment_reminder_2_hours": 48,
     "auto_cancel_hours": 72, "routing_strategy": "single_first"},
    # Marketplaces collect the money themselves: their orders arrive paid, so no auto-cancel.
    {"code": "bol", "name": "bol.com Marketplace", "kind": "marketplace", "dispatch_sla_hours": 24,
     "dispatch_warn_pct": 75, "payment_reminder_1_hours": 24, "payment_reminder_2_hours": 48,
     "auto_cancel_hours": None, "routing_strategy": "single_first"},
    {"code": "amazon", "name": "Amazon Marketplace", "kind": "marketplace", "dispatch_sla_hours": 48,
     "dispatch_warn_pct": 80, "payment_reminder_1_hours": 24, "payment_reminder_2_hours": 48,
     "auto_cancel_hours": None, "routing_strategy": "priority_split"},
    # Shops pay by bank transfer and are chased, never cancelled automatically.
    {"code": "wholesale", "name": "Wholesale (B2B)", "kind": "wholesale", "dispatch_sla_hours": 120,
     "dispatch_warn_pct": 80, "payment_reminder_1_hours": 24, "payment_reminder_2_hours": 48,
     "auto_cancel_hours": None, "routing_strategy": "single_first"},
]

LOCATIONS = [
    {"code": "NL-RTM", "name": "Rotterdam Warehouse (Waalhaven)", "kind": "warehouse",
     "regions": ["NL", "BE", "LU", "FR"], "priority": 10, "timezone": "Europe/Amsterdam",
     "cutoff_time": "16:00", "working_days": "12345"},
    {"code": "DE-LEJ", "name": "Leipzig Warehouse (GVZ Radefeld)", "kind": "warehouse",
     "regions": ["DE", "AT", "CH", "PL", "CZ", "DK"], "priority": 20, "timezone": "Europe/Berlin",
     "cutoff_time": "15:00", "working_days": "12345"},
    {"code": "US-NJ", "name": "New Jersey 3PL (Edison)", "kind": "3pl", "regions": ["US", "CA"],
     "priority": 30, "timezone": "America/New_York", "cutoff_time": "14:00", "working_days": "12345"},
    {"code": "GB-LON", "name": "London Shoreditch Store", "kind": "store", "regions": ["GB"], "priority": 50,
     "timezone": "Europe/London", "cutoff_time": "17:00", "working_days": "123456"},
]

# Share of the catalogue each location carries; the store and the 3PL hold a selection.
STOCKING = {"NL-RTM": 0.93, "DE-LEJ": 0.70, "US-NJ": 0.50, "GB-LON": 0.30}
AISLES = {"NL-RTM": "ABCDEFGHJK", "DE-LEJ": "ABCDEFGH", "US-NJ": "ABCDEF", "GB-LON": "ABC"}

# Where an address is shipped from, best first (the routing default: region, then priority).
ROUTES = {
    "NL": ("NL-RTM", "DE-LEJ"), "BE": ("NL-RTM", "DE-LEJ"), "FR": ("NL-RTM", "DE-LEJ"),
    "DE": ("DE-LEJ", "NL-RTM"), "AT": ("DE-LEJ", "NL-RTM"),
    "US": ("US-NJ", "NL-RTM"), "GB": ("GB-LON", "NL-RTM"),
}

# Fixed-date public holidays per location (month, day, name); Thanksgiving is added in code.
HOLIDAYS = {
    "NL-RTM": [(1, 1, "Nieuwjaarsdag"), (4, 27, "Koningsdag"), (12, 25, "Eerste Kerstdag"),
               (12, 26, "Tweede Kerstdag")],
    "DE-LEJ": [(1, 1, "Neujahr"), (5, 1, "Tag der Arbeit"), (10, 3, "Tag der Deutschen Einheit"),
               (10, 31, "Reformationstag"), (12, 25, "1. Weihnachtstag"), (12, 26, "2. Weihnachtstag")],
    "US-NJ": [(1, 1, "New Year's Day"), (6, 19, "Juneteenth"), (7, 4, "Independence Day"),
              (12, 25, "Christmas Day")],
    "GB-LON": [(1, 1, "New Year's Day"), (12, 25, "Christmas Day"), (12, 26, "Boxing Day")],
}

SELLER = {
    "address": ["Waalhaven Zuidzijde 21", "3089 JH Rotterdam", "Netherlands"],
    "vat_number": "NL862345117B01",
    "chamber_of_commerce": "KvK 81234567",
    "iban": "NL91 ABNA 0417 1643 00",
}

# --- Countries ------------------------------------------------------------------

COUNTRY_WEIGHTS = {"NL": 28, "DE": 22, "BE": 9, "FR": 7, "AT": 5, "US": 18, "GB": 11}
COUNTRY_CHANNELS = {
    "NL": {"webstore": 55, "bol": 35, "wholesale": 10},
    "BE": {"webstore": 55, "bol": 38, "wholesale": 7},
    "DE": {"webstore": 50, "amazon": 42, "wholesale": 8},
    "AT": {"webstore": 55, "amazon": 45},
    "FR": {"webstore": 45, "amazon": 55},
    "US": {"webstore": 50, "amazon": 44, "wholesale": 6},
    "GB": {"webstore": 55, "amazon": 40, "wholesale": 5},
}
CURRENCIES = {"US": "USD"}  # everything else is sold in euros

# VAT by destination (EU one-stop shop): (standard, reduced). UK books and food are
# zero-rated; US sales tax is not collected by this seller.
TAX_RATES = {
    "NL": (Decimal("21.00"), Decimal("9.00")), "BE": (Decimal("21.00"), Decimal("6.00")),
    "DE": (Decimal("19.00"), Decimal("7.00")), "AT": (Decimal("20.00"), Decimal("10.00")),
    "FR": (Decimal("20.00"), Decimal("5.50")), "GB": (Decimal("20.00"), Decimal("0.00")),
    "US": (Decimal("0.00"), Decimal("0.00")),
}

PAYMENT_METHODS = {
    "NL": {"ideal": 65, "card": 15, "paypal": 15, "klarna": 5},
    "BE": {"bancontact": 55, "card": 20, "paypal": 25},
    "DE": {"paypal": 45, "klarna": 30, "card": 25},
    "AT": {"eps": 30, "paypal": 35, "card": 35},
    "FR": {"card": 75, "paypal": 25},
    "US": {"card": 70, "paypal": 20, "apple_pay": 10},
    "GB": {"card": 65, "paypal": 25, "apple_pay": 10},
}

FIRST_NAMES = {
    "NL": ["Sanne", "Daan", "Emma", "Lars", "Sophie", "Bram", "Lotte", "Thijs", "Anouk", "Jeroen", "Fleur",
           "Ruben", "Iris", "Sem", "Noor", "Milan", "Eva", "Joris", "Femke", "Pieter"],
    "BE": ["Lucas", "Louise", "Arthur", "Elise", "Wout", "Marie", "Jules", "Hanne", "Victor", "Lien",
           "Thibault", "Camille"],
    "DE": ["Lukas", "Anna", "Jonas", "Lea", "Felix", "Hannah", "Leon", "Mia", "Paul", "Laura", "Maximilian",
           "Julia", "Tobias", "Katharina", "Jan", "Sophie"],
    "AT": ["Florian", "Magdalena", "Stefan", "Theresa", "Andreas", "Johanna", "Matthias", "Lena"],
    "FR": ["Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Camille", "Arthur", "Inès", "Jules", "Zoé",
           "Nathan"],
    "US": ["James", "Olivia", "Michael", "Emma", "Daniel", "Ava", "Matthew", "Sophia", "Ethan", "Isabella",
           "Benjamin", "Mia", "Jacob", "Charlotte", "Ryan", "Amelia", "Tyler", "Harper"],
    "GB": ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Freya", "Charlie", "Poppy", "Alfie",
           "Grace", "Thomas", "Evie"],
}
LAST_NAMES = {
    "NL": ["de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
           "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Dijk", "Dekker", "Brouwer", "de Wit",
           "Dijkstra", "Kok"],
    "BE": ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
           "De Smet", "Dubois", "Lambert"],
    "DE": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
           "Hoffmann", "Koch", "Richter", "Wolf", "Schröder", "Neumann", "Braun"],
    "AT": ["Gruber", "Huber", "Bauer", "Wagner", "Pichler", "Steiner", "Moser", "Mayer", "Hofer", "Leitner"],
    "FR": ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
           "Laurent", "Lefèvre"],
    "US": ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
           "Martinez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Lee", "Walker"],
    "GB": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
           "Wright", "Thompson", "Evans", "Walker", "Hughes"],
}

# (city, region, postcode rule). Rules: ("nl", lo, hi) 1234 AB; ("digits", lo, hi, width);
# ("list", [...]); ("gb", [outward codes]) SW4 7AB.
_PARIS = [f"750{n:02d}" for n in range(1, 21)]
_LYON = [f"6900{n}" for n in range(1, 10)]
_WIEN = [f"1{n:02d}0" for n in range(1, 24)]
CITIES = {
    "NL": [("Amsterdam", None, ("nl", 1011, 1109)), ("Rotterdam", None, ("nl", 3011, 3089)),
           ("Utrecht", None, ("nl", 3511, 3585)), ("Den Haag", None, ("nl", 2491, 2597)),
           ("Eindhoven", None, ("nl", 5611, 5658)), ("Groningen", None, ("nl", 9711, 9747)),
           ("Haarlem", None, ("nl", 2011, 2037)), ("Nijmegen", None, ("nl", 6511, 6546))],
    "BE": [("Brussel", None, ("digits", 1000, 1210, 4)), ("Antwerpen", None, ("digits", 2000, 2660, 4)),
           ("Gent", None, ("digits", 9000, 9052, 4)), ("Leuven", None, ("digits", 3000, 3012, 4)),
           ("Brugge", None, ("digits", 8000, 8310, 4)), ("Liège", None, ("digits", 4000, 4032, 4))],
    "DE": [("Berlin", None, ("digits", 10115, 14199, 5)), ("Hamburg", None, ("digits", 20095, 22769, 5)),
           ("München", None, ("digits", 80331, 81929, 5)), ("Köln", None, ("digits", 50667, 51149, 5)),
           ("Frankfurt am Main", None, ("digits", 60306, 60599, 5)),
           ("Leipzig", None, ("digits", 4103, 4357, 5)), ("Stuttgart", None, ("digits", 70173, 70629, 5)),
           ("Dresden", None, ("digits", 1067, 1328, 5))],
    "AT": [("Wien", None, ("list", _WIEN)), ("Graz", None, ("digits", 8010, 8055, 4)),
           ("Linz", None, ("digits", 4020, 4040, 4)), ("Salzburg", None, ("digits", 5020, 5026, 4)),
           ("Innsbruck", None, ("digits", 6020, 6080, 4))],
    "FR": [("Paris", None, ("list", _PARIS)), ("Lyon", None, ("list", _LYON)),
           ("Lille", None, ("list", ["59000", "59160", "59260", "59777", "59800"])),
           ("Bordeaux", None, ("list", ["33000", "33100", "33200", "33300", "33800"])),
           ("Nantes", None, ("list", ["44000", "44100", "44200", "44300"]))],
    "US": [("New York", "NY", ("digits", 10001, 10040, 5)), ("Brooklyn", "NY", ("digits", 11201, 11238, 5)),
           ("Boston", "MA", ("digits", 2108, 2136, 5)), ("Philadelphia", "PA", ("digits", 19102, 19154, 5)),
           ("Chicago", "IL", ("digits", 60601, 60661, 5)), ("Austin", "TX", ("digits", 78701, 78759, 5)),
           ("Seattle", "WA", ("digits", 98101, 98199, 5)), ("Jersey City", "NJ", ("digits", 7302, 7311, 5)),
           ("Denver", "CO", ("digits", 80202, 80239, 5)), ("Portland", "OR", ("digits", 97201, 97239, 5))],
    "GB": [("London", None, ("gb", ["E1", "E2", "N1", "N7", "SE1", "SE15", "SW4", "SW11", "W2", "NW1",
                                    "EC1V", "WC2H"])),
           ("Manchester", None, ("gb", ["M1", "M4", "M14", "M20"])), ("Bristol", None, ("gb", ["BS1", "BS6", "BS8"])),
           ("Leeds", None, ("gb", ["LS1", "LS6", "LS8"])), ("Edinburgh", None, ("gb", ["EH1", "EH3", "EH6", "EH9"])),
           ("Brighton", None, ("gb", ["BN1", "BN2", "BN3"]))],
}
STREETS = {
    "NL": ["Kerkstraat", "Prinsengracht", "Dorpsstraat", "Stationsweg", "Molenweg", "Julianalaan",
           "Beatrixstraat", "Lindenlaan", "Nieuwe Binnenweg", "Oudegracht", "Vondelstraat", "Zeestraat"],
    "BE": ["Kerkstraat", "Stationsstraat", "Rue de la Loi", "Meir", "Veldstraat", "Bondgenotenlaan",
           "Avenue Louise", "Kortrijksesteenweg"],
    "DE": ["Hauptstraße", "Schulstraße", "Bahnhofstraße", "Gartenstraße", "Lindenstraße", "Goethestraße",
           "Karl-Liebknecht-Straße", "Bergstraße", "Friedrichstraße"],
    "AT": ["Mariahilfer Straße", "Hauptplatz", "Landstraße", "Herrengasse", "Schubertstraße", "Bahnhofstraße"],
    "FR": ["rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Voltaire",
           "rue de la Paix", "rue Nationale", "place du Marché"],
    "US": ["Maple Avenue", "Oak Street", "Washington Street", "Park Avenue", "Cedar Lane", "Elm Street",
           "Lincoln Avenue", "Pine Street", "Highland Avenue"],
    "GB": ["High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road",
           "Queens Road", "Mill Lane"],
}

WHOLESALE_BUYERS = [
    ("Studio Linde", "NL"), ("Huiskamer Concept Store", "NL"), ("Groen & Goed", "NL"),
    ("Maison Brugge", "BE"), ("Atelier Gent", "BE"),
    ("Kaufhaus Lindner", "DE"), ("Laden & Liebe", "DE"), ("Nordlicht Concept", "DE"),
    ("Hudson Dry Goods", "US"), ("Maple & Main Mercantile", "US"), ("Fieldhouse Provisions", "US"),
    ("Northcote Home", "GB"), ("The Larder Collective", "GB"),
]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]

# --- Carriers ---------------------------------------------------------------------

# (location, destination country or "*") -> {carrier: weight}
CARRIERS = {
    ("NL-RTM", "NL"): {"PostNL": 70, "DHL": 30},
    ("NL-RTM", "BE"): {"DHL": 50, "PostNL": 30, "DPD": 20},
    ("NL-RTM", "*"): {"DPD": 60, "DHL": 40},
    ("DE-LEJ", "DE"): {"DHL": 60, "DPD": 20, "Hermes": 20},
    ("DE-LEJ", "*"): {"DHL": 60, "DPD": 40},
    ("US-NJ", "US"): {"UPS": 50, "USPS": 35, "FedEx": 15},
    ("US-NJ", "*"): {"FedEx": 100},
    ("GB-LON", "GB"): {"Royal Mail": 50, "DPD": 30, "Evri": 20},
    ("GB-LON", "*"): {"DPD": 100},
}

# --- Products ------------------------------------------------------------------------

# A variant dimension entry: (code, label, price or None, weight or None).
Variant = tuple[str, str, str | None, int | None]


def _dim(*labels: str) -> list[Variant]:
    return [(_code(label), label, None, None) for label in labels]


def _code(label: str) -> str:
    alnum = "".join(ch for ch in label.upper() if ch.isalnum())
    return alnum if alnum.isdigit() else alnum[:3]


_SIZES = _dim("S", "M", "L", "XL")
_GLAZES = _dim("Sand", "Moss", "Slate", "Chalk")
_COFFEE = [("250", "250 g", None, 270), ("1K", "1 kg", "x3.2", 1050)]  # 1 kg costs 3.2 × the 250 g bag

# (family code, name, tax class, price, weight in g, variant dimensions)
FAMILIES: list[tuple[str, str, str, str, int, list[list[Variant]]]] = [
    ("APP-MCS", "Merino Crew Sweater", "standard", "89.95", 320, [_dim("Navy", "Charcoal", "Oat"), _SIZES]),
    ("APP-OCT", "Organic Cotton Tee", "standard", "24.95", 180, [_dim("White", "Black", "Sage", "Rust"), _SIZES]),
    ("APP-LOS", "Linen Overshirt", "standard", "74.95", 290, [_dim("Sand", "Olive"), _SIZES]),
    ("APP-RDJ", "Recycled Down Jacket", "standard", "189.00", 780, [_dim("Black", "Forest"), _SIZES]),
    ("APP-CHN", "Chino Trousers", "standard", "79.95", 450,
     [_dim("Khaki", "Navy", "Olive"), _dim("30", "32", "34", "36")]),
    ("APP-BSK", "Bamboo Socks 3-Pack", "standard", "17.95", 120,
     [_dim("Mixed", "Black"), [("3640", "36-40", None, None), ("4145", "41-45", None, None),
                               ("4648", "46-48", None, None)]]),
    ("FTW-CSN", "Canvas Sneaker", "standard", "84.95", 850,
     [_dim("White", "Navy"), _dim("38", "39", "40", "41", "42", "43", "44", "45")]),
    ("APP-RPN", "Rain Poncho", "standard", "49.95", 350, [_dim("Yellow", "Navy", "Black")]),
    ("ACC-WBN", "Wool Beanie", "standard", "29.95", 90, [_dim("Navy", "Oat", "Rust", "Charcoal")]),
    ("ACC-WSC", "Wool Scarf", "standard", "54.95", 180, [_dim("Grey", "Camel", "Navy")]),
    ("ACC-LBT", "Leather Belt", "standard", "49.95", 210, [_dim("Brown", "Black"), _dim("85", "95", "105")]),
    ("HOM-SMG", "Stoneware Mug 350 ml", "standard", "14.95", 380, [_GLAZES]),
    ("HOM-SPL", "Stoneware Dinner Plate 27 cm", "standard", "19.95", 620, [_GLAZES]),
    ("HOM-SBW", "Stoneware Bowl 16 cm", "standard", "16.95", 420, [_GLAZES]),
    ("HOM-PCM", "Glass Pour-Over Coffee Maker", "standard", "39.95", 540, []),
    ("HOM-TTW", "Linen Tea Towel Set of 2", "standard", "22.95", 160, [_dim("Natural", "Indigo", "Terracotta")]),
    ("HOM-ECP", "Enamel Camping Pot 1.5 L", "standard", "34.95", 700, [_dim("Cream", "Blue")]),
    ("HOM-CKN", "Chef's Knife 20 cm", "standard", "89.00", 260, []),
    ("HOM-OCB", "Olive Wood Cutting Board", "standard", "44.95", 900,
     [[("SM", "30 cm", None, None), ("LG", "40 cm", "59.95", 1500)]]),
    ("HOM-CIS", "Cast Iron Skillet 26 cm", "standard", "59.95", 2600, []),
    ("HOM-WTB", "Wool Throw Blanket", "standard", "119.00", 1400, [_dim("Grey", "Ochre", "Forest")]),
    ("HOM-IBT", "Insulated Bottle 750 ml", "standard", "32.95", 390,
     [_dim("Black", "White", "Sage", "Navy", "Coral")]),
    ("HOM-CBT", "Cotton Bath Towel", "standard", "29.95", 650, [_dim("White", "Grey", "Sage", "Clay")]),
    ("HOM-BCN", "Beeswax Candle", "standard", "18.95", 300,
     [[("TAP", "Taper Pair", None, None), ("PIL", "Pillar", "21.95", 420)]]),
    ("COF-ETH", "Ethiopia Yirgacheffe Coffee Beans", "reduced", "13.50", 270, [_COFFEE]),
    ("COF-COL", "Colombia Huila Coffee Beans", "reduced", "12.50", 270, [_COFFEE]),
    ("COF-BRA", "Brazil Cerrado Coffee Beans", "reduced", "11.50", 270, [_COFFEE]),
    ("COF-KEN", "Kenya Nyeri Coffee Beans", "reduced", "14.50", 270, [_COFFEE]),
    ("COF-ESP", "House Espresso Blend", "reduced", "12.00", 270, [_COFFEE]),
    ("TEA-LLT", "Loose Leaf Tea 100 g", "reduced", "9.95", 130,
     [[("SEN", "Sencha", None, None), ("EGR", "Earl Grey", None, None), ("ASM", "Assam", None, None),
       ("ROO", "Rooibos", None, None), ("CHM", "Chamomile", None, None), ("JAS", "Jasmine Green", None, None)]]),
    ("TEA-MAT", "Ceremonial Matcha 30 g", "reduced", "24.95", 60, []),
    ("BK-SLK", "The Slow Kitchen (hardcover)", "reduced", "29.95", 980, []),
    ("BK-WWD", "Walking the Wadden", "reduced", "24.95", 540, []),
    ("BK-CAH", "Coffee at Home: A Brewing Guide", "reduced", "22.50", 620, []),
    ("BK-YOK", "A Year of Knitting", "reduced", "27.95", 760, []),
    ("BK-SSG", "Small Space Gardening", "reduced", "19.95", 480, []),
    ("BK-BCD", "The Bicycle Diaries", "reduced", "16.95", 350, []),
    ("BK-BWR", "Baking with Rye", "reduced", "31.50", 890, []),
    ("BK-NSB", "Field Guide to North Sea Birds", "reduced", "34.95", 710, []),
    ("BK-CFB", "Ceramics for Beginners", "reduced", "26.95", 820, []),
    ("BK-MWS", "The Mindful Workshop", "reduced", "21.95", 430, []),
    ("ACC-LCW", "Leather Card Wallet", "standard", "39.95", 60, [_dim("Cognac", "Black", "Olive")]),
    ("ACC-CTB", "Canvas Tote Bag", "standard", "19.95", 220, [_dim("Natural", "Black", "Navy")]),
    ("ACC-WBP", "Waxed Canvas Backpack 20 L", "standard", "129.00", 1100, [_dim("Olive", "Navy", "Black")]),
    ("ACC-BLS", "Bike Light Set", "standard", "34.95", 140, []),
    ("ACC-SUN", "Classic Sunglasses", "standard", "69.95", 40, [_dim("Tortoise", "Black")]),
    ("STA-NBK", "Notebook A5 Dotted", "standard", "14.50", 320, [_dim("Black", "Sage", "Terracotta", "Navy")]),
    ("STA-FPN", "Fountain Pen", "standard", "45.00", 30,
     [[("MBK", "Matte Black", None, None), ("BRS", "Brass", "55.00", 45)]]),
    ("CAR-SOP", "Natural Soap Bar", "standard", "6.95", 110, [_dim("Lavender", "Cedar", "Oat Milk", "Citrus")]),
    ("CAR-HCR", "Hand Cream 75 ml", "standard", "14.95", 95, [_dim("Unscented", "Lavender")]),
    ("CAR-BRD", "Beard Oil 30 ml", "standard", "19.95", 80, []),
    ("CAR-SHB", "Shampoo Bar", "standard", "11.95", 90, [_dim("Nettle", "Rosemary")]),
    ("KID-WSR", "Wooden Stacking Rings", "standard", "24.95", 450, []),
    ("KID-KBN", "Knitted Bunny", "standard", "29.95", 150, [_dim("Grey", "Pink", "Mint")]),
    ("KID-ORM", "Organic Baby Romper", "standard", "27.95", 120, [_dim("Oat", "Sage"), _dim("56", "62", "68", "74")]),
    ("KID-RBT", "Kids Rain Boots", "standard", "34.95", 600, [_dim("Yellow", "Red"), _dim("24", "26", "28", "30")]),
    ("TOY-PZL", "Jigsaw Puzzle 1000 Pieces", "standard", "22.95", 700,
     [[("CAN", "Dutch Canals", None, None), ("ALP", "Alpine Lake", None, None),
       ("HAR", "Harbour at Dusk", None, None)]]),
]

# --- Small generators ------------------------------------------------------------------

_NL_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
_GB_INWARD = "ABDEFGHJLNPQRSTUWXYZ"


def postcode(rng: random.Random, rule: tuple) -> str:
    kind = rule[0]
    if kind == "nl":
        while True:  # SA, SD and SS are not issued in Dutch postcodes
            pair = rng.choice(_NL_LETTERS) + rng.choice(_NL_LETTERS)
            if pair not in ("SA", "SD", "SS"):
                return f"{rng.randint(rule[1], rule[2])} {pair}"
    if kind == "digits":
        return f"{rng.randint(rule[1], rule[2]):0{rule[3]}d}"
    if kind == "list":
        return rng.choice(rule[1])
    return f"{rng.choice(rule[1])} {rng.randint(0, 9)}{rng.choice(_GB_INWARD)}{rng.choice(_GB_INWARD)}"


def street_line(rng: random.Random, country: str, street: str) -> str:
    if country == "US":
        return f"{rng.randint(12, 4890)} {street}"
    number = rng.randint(1, 180)
    if country in ("FR", "GB"):
        return f"{number} {street}"
    suffix = rng.choice(["A", "B", "-2", "-hs"]) if country == "NL" and rng.random() < 0.12 else ""
    return f"{street} {number}{suffix}"


def second_line(rng: random.Random, country: str) -> str | None:
    if country == "US" and rng.random() < 0.22:
        return rng.choice([f"Apt {rng.randint(1, 24)}{rng.choice('ABCDEF')}", f"Suite {rng.randint(100, 900)}"])
    if country == "GB" and rng.random() < 0.15:
        return f"Flat {rng.randint(1, 30)}"
    if country == "FR" and rng.random() < 0.15:
        return f"Bâtiment {rng.choice('ABC')}, {rng.randint(1, 6)}e étage"
    return None


def ean13(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _upper(rng: random.Random, n: int, alphabet: str = string.ascii_uppercase) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def tracking_number(rng: random.Random, carrier: str) -> str:
    """A number in the carrier's own format (checksums aside)."""
    if carrier == "PostNL":
        return "3S" + _upper(rng, 4) + _digits(rng, 9)
    if carrier == "DHL":
        return "00340434" + _digits(rng, 12)
    if carrier == "DPD":
        return "0" + _digits(rng, 13)
    if carrier == "Hermes":
        return "H10" + _digits(rng, 17)
    if carrier == "UPS":
        return "1Z" + _upper(rng, 6, string.ascii_uppercase + string.digits) + "03" + _digits(rng, 8)
    if carrier == "USPS":
        return "9400" + _digits(rng, 18)
    if carrier == "FedEx":
        return _digits(rng, 12)
    if carrier == "Royal Mail":
        return _upper(rng, 2) + _digits(rng, 9) + "GB"
    return "H0" + _upper(rng, 14, string.ascii_uppercase + string.digits)  # Evri


def payment_reference(rng: random.Random, method: str) -> str:
    alnum = string.ascii_letters + string.digits
    if method in ("card", "apple_pay"):
        return "pi_" + _upper(rng, 24, alnum)
    if method == "paypal":
        return _upper(rng, 17, string.ascii_uppercase + string.digits)
    return "tr_" + _upper(rng, 10, alnum)  # iDEAL, Bancontact, EPS, Klarna through the PSP
