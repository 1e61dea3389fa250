"""Errors raised by the spatial core.

Every error names the argument, the value received and what is allowed, in the manner of
geopandas' ``sjoin`` messages, so the web layer can show it to a user unchanged.
"""


class GeoInputError(ValueError):
    """Bad input to a spatial function (file, field, CRS, parameter or value)."""
