"""One colour palette per meaning, shared by the web maps (layers/) and the printed reports (reports/).

A reader who learned a colour on one page must read the same thing on every other page and in the Word
report: a key area "đang chuyển hóa" is the same blue everywhere, a 99 % hot spot the same red. Each constant
is a mapping code → CSS colour (or a sequence, light to dark, for classed counts).

Sources: hot spot bins follow the ArcGIS Pro *Hot Spot Analysis (Getis-Ord Gi\\*)* renderer; LISA the GeoDa
cluster map; counts and densities ColorBrewer YlOrRd (Brewer, Hatchard & Harrower 2003, sequential,
colour-blind safe); incident severity a colour-blind-safe qualitative set (Tableau 10 hues, ordered light
to dark by gravity). Cluster bubbles are neutral greys (ColorBrewer Greys): a cluster only says "many
incidents here", and green would read as "safe" on a crime map.
"""
from __future__ import annotations

#: Units with no significant pattern (hot spot, LISA, emerging): nearly white, so patterns stand out.
NOT_SIGNIFICANT = "#f2f1ea"
#: The same meaning on a line (corridor segments), where near-white would vanish against the map.
NOT_SIGNIFICANT_LINE = "#bdbdbd"

#: Getis-Ord Gi* confidence bins (ArcGIS renderer): 3/2/1 hot at 99/95/90 %, −1/−2/−3 cold.
GI_STAR_BINS = {3: "#d62f27", 2: "#ed7551", 1: "#fab984", 0: NOT_SIGNIFICANT,
                -1: "#c0ccbe", -2: "#849eba", -3: "#4575b5"}

#: Local Moran's I clusters and outliers (GeoDa).
LISA_CLUSTERS = {"HH": "#e31a1c", "HL": "#f4a6a1", "LH": "#a6b4f5", "LL": "#1f4fd6", "not significant": NOT_SIGNIFICANT}

#: Classed counts, rates and kernel densities, light to dark (ColorBrewer YlOrRd, 5 classes).
SEQUENTIAL_COUNTS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
ZERO_COUNT = "#f4f4f0"
NO_DATA = "#bdbdbd"

#: Incident dots by Penal Code Art. 9 severity.
INCIDENT_SEVERITY = {"less_serious": "#4c78a8", "serious": "#f2a541", "very_serious": "#e4572e",
                     "especially_serious": "#7b1e7a"}
UNKNOWN_SEVERITY = "#777777"

#: Marker-cluster bubbles by size (fewer than 10, fewer than 100, more), neutral greys light to dark, and
#: the text colour readable on each.
CLUSTER_BUBBLES = {"small": "#d9d9d9", "medium": "#969696", "large": "#525252"}
CLUSTER_TEXT = {"small": "#1d2733", "medium": "#ffffff", "large": "#ffffff"}

#: Key-area conversion status (KH 138 key complex areas) and a pending proposal's outline.
KEY_AREA_STATUS = {"selected": "#6b7280", "converting": "#2563eb", "achieved": "#15803d",
                   "not_achieved": "#b45309", "relapsed": "#b91c1c"}
KEY_AREA_PENDING = "#f59e0b"

#: Commune drug status (QĐ 28/2025 classes): drug-free, with drugs, key communes class III → I.
DRUG_STATUS = {"drug_free": "#15803d", "with_drugs": "#facc15", "key_3": "#f97316", "key_2": "#dc2626",
               "key_1": "#7f1d1d"}
DRUG_NO_DATA = "#d1d5db"

#: The plan's target line on charts.
TARGET_LINE = "#b3261e"

#: Offence groups (geo.taxonomy.GROUPS) on charts, a qualitative colour-blind-safe set (Okabe & Ito 2008).
CATEGORY_GROUPS = {"person": "#d55e00", "property": "#0072b2", "public_order": "#e69f00", "drugs": "#cc79a7",
                   "border": "#009e73", "economic": "#56b4e9", "environment": "#999999"}
#: This period against its baseline on trend charts: the period in ink, the baseline in grey.
TREND_CURRENT = "#1f5f99"
TREND_BASELINE = "#9aa5b1"
