"""Errors raised by the spatial core.

Every error names the argument, the value received and what is allowed, in the manner of
geopandas' ``sjoin`` messages, so the web layer can show it to a user unchanged.
"""
from translations import TranslatableError


class GeoInputError(TranslatableError):
    """Bad input to a spatial function (file, field, CRS, parameter or value).

    Raise it with a :class:`translations.Message` (``GeoInputError(message("errors.parameter", ...))``) so a
    page words it in the reader's language; a plain string is shown as it is.
    """
