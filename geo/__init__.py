"""Spatial core of Bản đồ 138: pure functions on GeoDataFrames, numpy arrays and plain values.

No Flask, no Folium and no database session may be imported here.

Vector files are read and written through one GDAL binding, fiona (the design card's choice): every
``read_file``/``to_file`` call of the app names :data:`VECTOR_ENGINE`. geopandas is not imported here, so the
command-line statistics that need no vector file stay light.
"""

VECTOR_ENGINE = "fiona"
# GeoPackage 1.2 rather than the newest version the bundled GDAL knows: Debian 12's GDAL 3.6 (QGIS, ogrinfo
# on the office machines) warns "may only be partially supported" on 1.4 files.
GEOPACKAGE_OPTIONS = {"VERSION": "1.2"}
