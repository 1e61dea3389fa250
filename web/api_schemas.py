"""marshmallow schemas of request parameters and JSON bodies: they validate the requests and describe them in
the OpenAPI documents (``web/openapi.py`` turns them into parameters and components with apispec's
MarshmallowPlugin), so the check and the description are one text.

A refused query value raises :class:`ParameterError`, naming the parameter, the value received and what is
allowed; a refused body raises :class:`BodyError`, one catalog message per member (``definition.levels.0.status``),
worded in the request's language. The routes answer both 400 in one shape: ``{"error", "status"}`` plus
``"fields"`` for a body (see :func:`error_body`).

Bodies refuse members they do not describe (``additionalProperties: false`` in the document): a misspelt
``decison_date`` would otherwise be dropped without a word and the client would believe it saved.
"""
from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from geo.errors import GeoInputError
from translations import Message, TranslatableError, message

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
LOCAL_ZONE = "Asia/Ho_Chi_Minh"  # stored times are Vietnam local time without zone


def _says(key: str, **params) -> list[Message]:
    # marshmallow keeps a list of messages per member; a Message stays unworded until the answer's language is known
    return [message(key, **params)]


class KeyedRange(validate.Range):
    """A query's :class:`marshmallow.validate.Range` worded by ``key`` with its ``min`` and ``max``."""

    def __init__(self, low, high, *, key: str):
        super().__init__(low, high)
        self.key = key

    def _format_error(self, value, message):
        return _says(self.key, min=self.min, max=self.max)


class KeyedRegexp(validate.Regexp):
    """A query's :class:`marshmallow.validate.Regexp` worded by ``key`` (apispec still reads the pattern)."""

    def __init__(self, pattern, *, key: str):
        super().__init__(pattern)
        self.key = key

    def _format_error(self, value):
        return _says(self.key)


class KeyedChoice(validate.OneOf):
    """A query's :class:`marshmallow.validate.OneOf` worded from the catalogs (apispec reads the enum)."""

    def _format_error(self, value):
        return _says("api.query.one_of", choices=", ".join(str(c) for c in self.choices))


class ParameterError(GeoInputError):
    """A request parameter refused by its schema (answered 400); ``problems`` maps each one to its messages."""

    problems: dict[str, list] | None = None


class Bbox(fields.Field):
    """``minLon,minLat,maxLon,maxLat`` (or 6 numbers with heights, which are dropped), CRS84; a box with
    minLon > maxLon crosses the antimeridian. Described as an array (``style: form, explode: false``)."""

    openapi = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            values = [float(v) for v in str(value).split(",")]
        except ValueError:
            raise ValidationError(_says("api.query.bbox")) from None
        if len(values) == 6:
            values = [values[0], values[1], values[3], values[4]]
        if len(values) != 4 or not all(math.isfinite(v) for v in values):
            raise ValidationError(_says("api.query.bbox"))
        minx, miny, maxx, maxy = values
        if miny > maxy or not (-90 <= miny <= 90 and -90 <= maxy <= 90):
            raise ValidationError(_says("api.query.latitudes"))
        return tuple(values)


def local_time(text: str, end: bool = False) -> pd.Timestamp:
    """An RFC 3339 date-time or date as a naive Vietnam-local timestamp (the stored convention).

    A time with an offset (``Z``, ``+07:00``) is converted to Vietnam time; one without is Vietnam time; a
    date alone is its first instant, or its last with ``end``.
    """
    text = text.strip()
    try:
        if len(text) == 10:
            day = pd.Timestamp(text)
            return day + timedelta(days=1) - timedelta(microseconds=1) if end else day
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise ValidationError(_says("api.query.datetime")) from None
    if pd.isna(stamp):
        raise ValidationError(_says("api.query.datetime"))
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(LOCAL_ZONE).tz_localize(None)
    return stamp


def rfc3339(value) -> str | None:
    """A stored (naive, Vietnam-local) time as RFC 3339 with its offset: ``2022-12-01T15:49:00+07:00``."""
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(LOCAL_ZONE) if stamp.tzinfo is None else stamp.tz_convert(LOCAL_ZONE)
    return stamp.isoformat(timespec="seconds")


def rfc3339_column(values: pd.Series) -> pd.Series:
    """:func:`rfc3339` of a whole column at once (object dtype, None where a time is missing)."""
    import numpy as np

    stamps = pd.to_datetime(values)
    aware = stamps.dt.tz_localize(LOCAL_ZONE) if stamps.dt.tz is None else stamps.dt.tz_convert(LOCAL_ZONE)
    local = aware.dt.tz_localize(None)
    offsets = (local - aware.dt.tz_convert("UTC").dt.tz_localize(None)).dt.total_seconds()
    # numpy formats in C; the zone's offset (+07:00 since 1975) is joined per distinct value
    text = np.datetime_as_string(local.to_numpy("datetime64[s]"), unit="s").tolist()
    suffix = {o: f"{'+' if o >= 0 else '-'}{int(abs(o)) // 3600:02d}:{int(abs(o)) % 3600 // 60:02d}"
              for o in offsets.dropna().unique()}
    return pd.Series([t + suffix[o] if present else None
                      for t, o, present in zip(text, offsets.tolist(), stamps.notna().tolist())],
                     index=values.index, dtype=object)


class Interval(fields.Field):
    """An instant or an interval ``start/end`` with ``..`` (or nothing) for an open end, as RFC 3339
    date-times or dates; loads as ``(start, end)`` inclusive naive local timestamps, None for an open end."""

    openapi = {"type": "string", "example": "2024-01-01T00:00:00+07:00/2024-06-30T23:59:59+07:00"}

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value)
        if "/" not in text:
            return local_time(text), local_time(text, end=len(text.strip()) == 10)
        first, _, last = text.partition("/")
        start = None if first.strip() in ("", "..") else local_time(first)
        finish = None if last.strip() in ("", "..") else local_time(last, end=True)
        if start is None and finish is None:
            raise ValidationError(_says("api.query.interval_open"))
        if start is not None and finish is not None and start > finish:
            raise ValidationError(_says("api.query.interval_order"))
        return start, finish


class OgcFormat(Schema):
    """``f``: the only encodings served."""

    class Meta:
        unknown = RAISE

    f = fields.String(validate=validate.OneOf(["json", "geojson"]), metadata={"description": "Encoding"})
    lang = fields.String(validate=validate.OneOf(["vi", "en"]), metadata={"description": "Interface language"})


class OgcItemsQuery(OgcFormat):
    """Query parameters of ``/ogc/collections/{collectionId}/items`` (OGC API – Features – Part 1, 7.15)."""

    bbox = Bbox(metadata={"description": "minLon,minLat,maxLon,maxLat in CRS84 (6 numbers with heights "
                                         "accepted); minLon > maxLon crosses the antimeridian"})
    bbox_crs = fields.String(data_key="bbox-crs", validate=validate.OneOf([CRS84]),
                             metadata={"description": "CRS of bbox (only CRS84)"})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT), strict=False,
                           metadata={"description": "Items per page", "default": DEFAULT_LIMIT})
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10**9),
                            metadata={"description": "Items to skip (the next link carries it)", "default": 0})
    datetime = Interval(metadata={"description": "RFC 3339 instant, date or interval (../end, start/..) on the "
                                                 "collection's temporal property; times with their offset (+07:00)"})
    year = fields.Integer(validate=validate.Range(1900, 2100), metadata={"description": "Calendar year"})
    category = fields.String(metadata={"description": "Category code, social_order, border_corridor or "
                                                      "group:<group>"})
    district = fields.String(metadata={"description": "District code (a district account sees its own)"})
    set = fields.String(metadata={"description": "Boundary set id (default: in force at the period's end)"})


def load_query(schema: Schema, args) -> dict:
    """``args`` (a request's query) loaded by ``schema``, or :class:`ParameterError` naming each refused one.

    Each refusal is a catalog message (``api.query.*``), worded in the answer's language by
    :func:`error_body`; its English ``str`` is what OGC exceptions and logs show."""
    raw = {key: args.get(key) for key in args}
    try:
        return schema.load(raw)
    except ValidationError as error:
        allowed = ", ".join(sorted(field.data_key or name for name, field in schema.fields.items()))
        parts = {}
        for name, messages in sorted(error.messages.items()):
            reasons = [message("api.query.unknown", allowed=allowed) if text == "Unknown field." else
                       text if isinstance(text, Message) else message("api.query.text", text=str(text))
                       for text in _flat(messages)]
            parts[name] = message("api.query.param", name=name, value=str(raw.get(name, ""))[:40],
                                  reason=_joined(reasons))
        refused = ParameterError(_joined(list(parts.values())))
        refused.problems = {name: [part] for name, part in parts.items()}
        raise refused from None


def _flat(messages) -> list:
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    if isinstance(messages, (list, tuple)):
        return [m for value in messages for m in _flat(value)]
    return [messages]


def _joined(parts: list[Message]) -> Message:
    """Several messages as one, ``a; b; …``, each worded in the reader's language."""
    joined = parts[0]
    for part in parts[1:]:
        joined = message("api.query.joined", first=joined, then=part)
    return joined


# ------------------------------------------------------------------ the tracker API (web/api_tracker.py)


def _key_area_vocabulary(name: str) -> list[str]:
    from store import key_areas

    return list(getattr(key_areas, name))


def _evaluation_vocabulary(name: str) -> list[str]:
    from store import evaluation

    return list(getattr(evaluation, name))


def _year(description: str = "Calendar year") -> fields.Integer:
    # "²".isdigit() is true but int("²") fails: marshmallow's int() answers it as invalid, not a 500
    return fields.Integer(validate=KeyedRange(1900, 2100, key="api.query.year"),
                          error_messages={"invalid": _says("api.query.year", min=1900, max=2100)},
                          metadata={"description": description})


class _Query(Schema):
    class Meta:
        unknown = EXCLUDE  # pages link these endpoints with their own parameters (lang, set, …)


class YearQuery(_Query):
    year = _year()


class KeyAreaListQuery(YearQuery):
    district = fields.String(metadata={"description": "District code (3 digits); a district account sees its own"})
    status = fields.String(validate=validate.OneOf(_key_area_vocabulary("STATUSES")),
                           metadata={"description": "Current status"})


class DrugStatusListQuery(YearQuery):
    district = fields.String(metadata={"description": "District code (3 digits); a district account sees its own"})


class ProposalListQuery(_Query):
    state = fields.String(validate=validate.OneOf(_key_area_vocabulary("PROPOSAL_STATES")),
                          metadata={"description": "Proposal state"})


# ------------------------------------------------------------------ figures, boundaries and hot spot evaluations
# Their words stay those the routes' own checks used ("is outside the allowed 250–5000"), which clients match.


def _bounded(kind, low, high, description: str, **kwargs):
    return kind(validate=KeyedRange(low, high, key="api.query.outside"),
                error_messages={"invalid": _says("api.query.whole_number" if kind is fields.Integer else "api.query.number"),
                                "special": _says("api.query.finite")},
                metadata={"description": description}, **kwargs)


def _code_list(description: str, digits: int = 10) -> fields.String:
    pattern = rf"^\d{{1,{digits}}}(,\d{{1,{digits}}})*$"
    return fields.String(validate=[validate.Length(max=2000), KeyedRegexp(pattern, key="api.query.code_list")],
        metadata={"description": description})


def _period(description: str) -> fields.String:
    return fields.String(validate=validate.Length(max=40), metadata={
        "description": f"{description}: a period code — YYYY (reporting year), YYYY-Q1, YYYY-H1, YYYY-Q3, YYYY-9M, "
                       "YYYY-q1…q4, YYYY-CY (calendar year), YYYY-MM, or YYYY-MM-DD..YYYY-MM-DD"})


def _category(description: str = "Category code, group:<group> or a set (social_order, border_corridor); "
                                 "default all") -> fields.String:
    from geo.taxonomy import category_selections

    return fields.String(validate=KeyedChoice(sorted(category_selections())),
                         metadata={"description": description})


def _district() -> fields.String:
    return fields.String(validate=KeyedRegexp(r"^\d{1,5}$", key="api.query.district"),
                         metadata={"description": "District code (3 digits); a district account sees its own"})


class _ApiQuery(_Query):
    """A query of the JSON API; an empty value (``cell_size=``) is the parameter left out, as the pages send."""

    @pre_load
    def _drop_empty(self, data, **kwargs):
        return {key: value for key, value in data.items() if value is not None and str(value).strip() != ""}


class CommunesQuery(_ApiQuery):
    set = fields.String(validate=validate.Length(max=40), metadata={"description": "Boundary set id, e.g. 2025-07"})
    on = fields.Date(error_messages={"invalid": _says("api.query.date")},
                     metadata={"description": "The set in force on this day (not with set)"})

    @validates_schema
    def _one_of_them(self, data, **kwargs):
        if "set" in data and "on" in data:
            raise ValidationError(_says("api.query.set_or_on"), "on")


class TargetsQuery(_ApiQuery):
    period = _period("Period (default the reporting year in progress)")
    district = _district()
    commune = fields.String(validate=KeyedRegexp(r"^\d{1,6}$", key="api.query.commune"),
                            metadata={"description": "Commune code (5 digits)"})
    set = fields.String(validate=validate.Length(max=40), metadata={"description": "Boundary set id (default the "
                                                                                   "active set)"})


class ChangeQuery(_ApiQuery):
    period = _period("Period (default the reporting year in progress)")
    baseline = _bounded(fields.Integer, 1900, 2100, "Baseline year, before the period (default the year before)")
    category = _category("Category code or set")
    district = _district()
    set = fields.String(validate=validate.Length(max=40), metadata={"description": "Boundary set id (default the "
                                                                                   "active set)"})


def _corridor_vocabulary() -> tuple[list[str], list[float]]:
    from geo.taxonomy import BORDER_CORRIDOR_CATEGORIES
    from store.corridor import SEGMENT_LENGTHS_KM

    return sorted(BORDER_CORRIDOR_CATEGORIES), list(SEGMENT_LENGTHS_KM)


class CorridorStatsQuery(_ApiQuery):
    period = _period("Period (default the reporting year in progress)")
    baseline = _bounded(fields.Integer, 1900, 2100, "Baseline year, before the period (default the year before)")
    category = fields.String(validate=KeyedChoice(_corridor_vocabulary()[0]),
                             metadata={"description": "Border-corridor category"})
    bands = fields.String(validate=[validate.Length(max=80), KeyedRegexp(
        r"^\d+(\.\d+)?(,\d+(\.\d+)?)*$", key="api.query.bands")],
        metadata={"description": "Band edges in km, e.g. 0,2,5,10"})
    segment_km = fields.Float(validate=KeyedChoice(_corridor_vocabulary()[1]),
                              error_messages={"invalid": _says("api.query.number")},
                              metadata={"description": "Segment length in km"})


class HotspotAccuracyQuery(_ApiQuery):
    train = _period("Training period (default: the quarter before the last complete one)")
    test = _period("Test period (default: the last complete quarter)")
    method = fields.String(validate=KeyedChoice(_evaluation_vocabulary("ACCURACY_METHODS")),
                           metadata={"description": "Hot spot method", "default": "gistar"})
    category = _category()
    district = _district()
    cell_size = _bounded(fields.Float, 250, 5000, "Hexagon size (m)")


class DisplacementQuery(_ApiQuery):
    buffer = _bounded(fields.Float, 50, 5000, "Ring width (m)")
    control = _code_list("Commune codes of the control area (default: the area's district)")
    span_days = _bounded(fields.Integer, 1, 3660, "Days before and after the decision")
    category = _category()


class NearRepeatsQuery(_ApiQuery):
    period = _period("Period (default: the year of the latest data)")
    category = _category()
    district = _district()
    space_bands = _code_list("Upper band limits in metres, comma-separated, increasing", digits=6)
    time_bands = _code_list("Upper band limits in days, comma-separated, increasing", digits=4)
    permutations = _bounded(fields.Integer, 99, 9999, "Monte Carlo permutations (default 999)")
    seed = _bounded(fields.Integer, 0, 2**31 - 1, "Seed")


class ForecastQuery(_ApiQuery):
    as_of = fields.Date(error_messages={"invalid": _says("api.query.date")},
                        metadata={"description": "Forecast origin (default: the latest data)"})
    category = _category()
    district = _district()
    cell_size = _bounded(fields.Float, 250, 5000, "Hexagon size (m)")
    space_bandwidth = _bounded(fields.Float, 50, 5000, "Radius of raised risk (m); default from the near-repeat "
                                                       "result")
    time_bandwidth = _bounded(fields.Float, 1, 365, "Days of raised risk; default from the near-repeat result")
    share = _bounded(fields.Float, 0.001, 0.5, "Share of the area flagged (default 0.05)")


# ------------------------------------------------------------------ JSON bodies (worded from the catalogs)
#: Deeper bodies are refused before any schema reads them: a MultiPolygon's positions are the deepest member
#: described (body → geometry → coordinates → polygon → ring → position), 6 levels.
MAX_BODY_DEPTH = 8
INT32 = (-2**31, 2**31 - 1)


class _Worded:
    """Mixin: a field's own refusals (missing, null, wrong type) as catalog messages."""

    type_key = "api.field.invalid"
    default_error_messages = {"required": _says("api.field.required"), "null": _says("api.field.null"),
                              "validator_failed": _says("api.field.invalid")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key in ("invalid", "invalid_utf8", "format", "too_large", "special", "type"):
            if key in self.error_messages or key == "invalid":
                self.error_messages[key] = _says(self.type_key)


class Text(_Worded, fields.String):
    type_key = "api.field.text"


class Whole(_Worded, fields.Integer):
    """A JSON integer (not ``3.0``, ``"3"`` nor ``true``)."""

    type_key = "api.field.integer"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class Amount(_Worded, fields.Float):
    type_key = "api.field.number"

    def _validated(self, value):
        if isinstance(value, (bool, str)):  # marshmallow's float() would read "1.5" and True
            raise self.make_error("invalid")
        return super()._validated(value)


class Flag(_Worded, fields.Boolean):
    """``true`` or ``false`` only (marshmallow also reads 1, "yes", "on")."""

    type_key = "api.field.boolean"

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Day(_Worded, fields.Date):
    type_key = "api.field.date"

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class ListOf(_Worded, fields.List):
    type_key = "api.field.list"


class Member(_Worded, fields.Nested):
    type_key = "api.field.object"


class Between(validate.Range):
    """:class:`marshmallow.validate.Range` worded from the catalogs (apispec reads its min and max)."""

    def _format_error(self, value, message):
        if self.min is not None and self.max is not None:
            return _says("api.field.between", min=self.min, max=self.max)
        if self.min is not None:
            return _says("api.field.at_least", min=self.min)
        return _says("api.field.at_most", max=self.max)


class Sized(validate.Length):
    """:class:`marshmallow.validate.Length` worded from the catalogs (apispec reads minLength/maxLength)."""

    def _format_error(self, value, message):
        if self.min and self.max is not None:
            return _says("api.field.length_between", min=self.min, max=self.max)
        if self.min:
            return _says("api.field.length_at_least", min=self.min)
        return _says("api.field.length_at_most", max=self.max)


class Choice(validate.OneOf):
    """:class:`marshmallow.validate.OneOf` worded from the catalogs (apispec reads the enum)."""

    def _format_error(self, value):
        return _says("api.field.one_of", choices=", ".join(str(c) for c in self.choices))

    def __call__(self, value):
        try:
            known = value in self.choices
        except TypeError:  # an unhashable value against a set of choices
            known = False
        if not known:
            raise ValidationError(self._format_error(value))
        return value


class Body(Schema):
    """A JSON request body: unknown members refused, every refusal a catalog message."""

    class Meta:
        unknown = RAISE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = ", ".join(field.data_key or name for name, field in self.fields.items())
        self.error_messages = {**self.error_messages, "type": message("api.field.object"),
                               "unknown": message("api.field.unknown", allowed=allowed)}


def _version(description: str) -> Whole:
    return Whole(required=True, validate=Between(*INT32), metadata={"description": description})


def _text(*, required: bool = False, max_length: int, description: str = "", **kwargs) -> Text:
    return Text(required=required, validate=Sized(min=1 if required else 0, max=max_length),
                metadata={"description": description} if description else {}, **kwargs)


def _vocabulary(name: str, description: str, **kwargs) -> Text:
    return Text(validate=Choice(_key_area_vocabulary(name)), metadata={"description": description}, **kwargs)


class DecisionBody(Body):
    """A checker's decision on a proposal (key area or drug status)."""

    version = _version("The proposal's version read (stale versions are 409)")
    decision = Text(required=True, validate=Choice(["approve", "reject"]))
    note = _text(max_length=4000, load_default="", description="Required to reject")


class Coordinates(_Worded, fields.Raw):
    """GeoJSON coordinates (RFC 7946 §3.1): nested arrays whose innermost are positions [lon, lat(, height)];
    the depth is the geometry type's, checked by :class:`PolygonGeometry`."""

    type_key = "api.field.list"
    position = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3}
    ring = {"type": "array", "items": position, "minItems": 4}
    openapi = {"type": "array", "description": "Polygon: rings of positions; MultiPolygon: polygons of rings",
               "items": {"type": "array", "minItems": 1, "items": {"oneOf": [
                   position, {"type": "array", "items": ring, "minItems": 1}]}}}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise self.make_error("invalid")
        return value


def _coordinate_problem(value, depth: int, path: str):
    """The path and message of the first part of ``value`` that is not ``depth`` levels of arrays around
    positions (a Polygon's rings 2, a MultiPolygon's 3)."""
    if depth == 0:
        if not (isinstance(value, list) and 2 <= len(value) <= 3
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
            return path, message("api.field.position")
        return None
    if not isinstance(value, list):
        return path, message("api.field.list")
    for index, part in enumerate(value):
        problem = _coordinate_problem(part, depth - 1, f"{path}.{index}")
        if problem:
            return problem
    return None


class PolygonGeometry(Body):
    """A GeoJSON Polygon or MultiPolygon (RFC 7946) in EPSG:4326 longitude/latitude."""

    type = Text(required=True, validate=Choice(["Polygon", "MultiPolygon"]))
    coordinates = Coordinates(required=True, metadata={
        "description": "Polygon: rings of [lon, lat] positions; MultiPolygon: a list of those"})
    bbox = ListOf(Amount(), validate=Sized(min=4, max=6))

    @validates_schema(skip_on_field_errors=True)
    def _depth_of_type(self, data, **kwargs):
        problem = _coordinate_problem(data["coordinates"], 2 if data["type"] == "Polygon" else 3, "coordinates")
        if problem:
            raise ValidationError({problem[0]: [problem[1]]})


class _KeyAreaDetails(Body):
    name = _text(max_length=200, description="Name of the area")
    kind = _vocabulary("KINDS", "Kind of place")
    complexity_types = ListOf(Text(validate=Choice(_key_area_vocabulary("COMPLEXITY_TYPES"))),
                              validate=Sized(min=1, max=len(_key_area_vocabulary("COMPLEXITY_TYPES"))),
                              metadata={"description": "What makes the area complex (at least one)"})
    decision_number = _text(max_length=80, description="Number of the selection decision")
    decision_date = Day(allow_none=True, metadata={"description": "Date of the selection decision"})
    notes = _text(max_length=4000)


class NewKeyAreaBody(_KeyAreaDetails):
    """A key area to create (status *selected*); its shape is the commune's unless ``geometry`` is given."""

    name = _text(required=True, max_length=200, description="Name of the area")
    kind = _vocabulary("KINDS", "Kind of place", required=True)
    complexity_types = ListOf(Text(validate=Choice(_key_area_vocabulary("COMPLEXITY_TYPES"))), required=True,
                              validate=Sized(min=1, max=len(_key_area_vocabulary("COMPLEXITY_TYPES"))),
                              metadata={"description": "What makes the area complex (at least one)"})
    decision_number = _text(required=True, max_length=80, description="Number of the selection decision")
    year_selected = Whole(required=True, validate=Between(2010, 2100),
                          metadata={"description": "Year selected (at most next year)"})
    district_code = _text(max_length=10, description="District code (a district account's own by default)")
    commune_code = _text(max_length=10, description="Commune code of the boundary set in force on the decision date")
    geometry = Member(PolygonGeometry, metadata={"description": "Drawn shape (default: the commune's)"})


class KeyAreaChangesBody(_KeyAreaDetails):
    """Changes to a key area's details; members left out stay as they are."""

    version = _version("The area's version read (stale versions are 409)")
    reason = _text(max_length=4000, description="Why (kept in the audit log)")


class TransitionBody(Body):
    """A status change of a key area, recorded (province) or proposed (maker)."""

    version = _version("The area's version read (stale versions are 409)")
    to_status = _vocabulary("STATUSES", "New status (the lifecycle decides which are allowed)", required=True)
    event_date = Day(required=True, metadata={"description": "Date of the change (not in the future)"})
    reason = _text(required=True, max_length=4000)
    document_number = _text(required=True, max_length=80, description="Number of the document deciding it")


class ReselectionBody(Body):
    """A relapsed area selected again in a later year (a new cycle)."""

    year_selected = Whole(required=True, validate=Between(2010, 2100),
                          metadata={"description": "Year of the new cycle (after the relapsed cycle's)"})
    decision_number = _text(required=True, max_length=80)
    decision_date = Day(allow_none=True)
    reason = _text(max_length=4000)


def _indicator_fields() -> dict:
    from geo.drug_rules import INDICATOR_LABELS, INDICATOR_NAMES

    def field(name):
        description = INDICATOR_LABELS[name][1]
        if name == "on_drug_route":
            return Flag(metadata={"description": description})
        if name == "drug_crop_m2":
            return Amount(validate=Between(0, 10**12), metadata={"description": description})
        return Whole(validate=Between(0, INT32[1]), metadata={"description": description})

    return {name: field(name) for name in INDICATOR_NAMES}


DrugIndicatorsBody = Body.from_dict(_indicator_fields(), name="DrugIndicatorsBody")
DrugIndicatorsBody.__doc__ = "What a commune recorded for the year (counts ≥ 0; on_drug_route true/false)."


class DrugStatusBody(Body):
    """A commune's drug-status figures of one year: written (province) or proposed (district, commune)."""

    commune_code = _text(required=True, max_length=10, description="Commune code of the set in force on assessed_on")
    year = Whole(required=True, validate=Between(2010, 2100), metadata={"description": "Year (not a future one)"})
    assessed_on = Day(allow_none=True, metadata={"description": "Assessment date in that year (default 31 December)"})
    indicators = Member(DrugIndicatorsBody, load_default=dict)
    notes = _text(max_length=4000)
    version = Whole(allow_none=True, validate=Between(*INT32),
                    metadata={"description": "Version of the record read (required to update one)"})
    reason = _text(max_length=4000)
    confirm_warnings = Flag(load_default=False, metadata={"description": "Save figures flagged implausible"})


def _minimum_names() -> list[str]:
    from geo.drug_rules import INDICATOR_NAMES

    return [*INDICATOR_NAMES, "addicts_and_users"]


MinimumsBody = Body.from_dict({name: Amount(validate=Between(0, 10**12)) for name in _minimum_names()},
                              name="MinimumsBody")
MinimumsBody.__doc__ = "Minimum per indicator (addicts_and_users: addicts plus users with records)."


class CriterionBody(Body):
    code = _text(required=True, max_length=80)
    label_vi = _text(max_length=400)
    label_en = _text(max_length=400)
    minimums = Member(MinimumsBody, required=True,
                      metadata={"description": "Met when any indicator reaches its minimum"})
    per_resident = Flag(metadata={"description": "Minimums are shares of residents (0.005 = 0.5 %)"})


class LevelBody(Body):
    status = Text(required=True, validate=Choice(["key_1", "key_2", "key_3"]))
    min_met = Whole(required=True, validate=Between(1, 100), metadata={"description": "At least this many criteria"})
    unconfirmed = Flag()
    criteria = ListOf(Member(CriterionBody), required=True, validate=Sized(min=1, max=100))

    @validates_schema(skip_on_field_errors=True)
    def _reachable(self, data, **kwargs):
        if data["min_met"] > len(data["criteria"]):
            raise ValidationError(_says("api.field.at_most", max=len(data["criteria"])), "min_met")


class RuleSetBody(Body):
    """A version of a drug rule set (the shape ``GET /api/drug-status/rule-sets`` lists)."""

    code = _text(required=True, max_length=80)
    document_number = _text(required=True, max_length=80)
    title_vi = _text(max_length=400)
    effective_from = Day(required=True)
    notes_vi = _text(max_length=4000)
    levels = ListOf(Member(LevelBody), required=True, validate=Sized(min=1, max=3))


class RuleSetInputBody(Body):
    definition = Member(RuleSetBody, required=True)
    reason = _text(max_length=4000, description="Why (kept in the audit log)")


def _flatten(messages, path: str = "") -> dict[str, list]:
    """marshmallow's nested ``{member: {index: [messages]}}`` as ``{"member.index": [messages]}``."""
    if isinstance(messages, dict):
        flat = {}
        for key, value in messages.items():
            name = path if key == "_schema" else (f"{path}.{key}" if path else str(key))
            for member, texts in _flatten(value, name).items():
                flat.setdefault(member, []).extend(texts)
        return flat
    return {path: list(messages) if isinstance(messages, list) else [messages]}


def _depth_problem(data, limit: int) -> str | None:
    """The path of the first member nested deeper than ``limit`` levels (iterative: no recursion to exhaust)."""
    pending = [(data, "", 1)]
    while pending:
        value, path, depth = pending.pop()
        if not isinstance(value, (dict, list)):
            continue
        if depth > limit:
            return path
        members = value.items() if isinstance(value, dict) else enumerate(value)
        pending.extend((part, f"{path}.{key}" if path else str(key), depth + 1) for key, part in members)
    return None


class BodyError(ParameterError):
    """A JSON body refused by its schema: ``problems`` maps each member's path to its catalog messages."""

    def __init__(self, problems: dict[str, list]):
        self.problems = problems
        super().__init__(self.text("en"))

    def field_texts(self, lang: str) -> dict[str, str]:
        return {path: "; ".join(m.text(lang) if isinstance(m, Message) else str(m) for m in texts)
                for path, texts in self.problems.items()}

    def text(self, lang: str = "vi") -> str:
        from translations import translate

        details = "; ".join(f"{path or '/'}: {text}" for path, text in self.field_texts(lang).items())
        return translate("api.body.refused", lang, details=details)


def load_body(schema: Schema, data) -> dict:
    """A JSON body loaded by ``schema``, or :class:`BodyError` naming each refused member (nothing is changed)."""
    if not isinstance(data, dict):
        raise BodyError({"": [message("api.body.not_object")]})
    too_deep = _depth_problem(data, MAX_BODY_DEPTH)
    if too_deep is not None:
        raise BodyError({too_deep: [message("api.body.too_deep", limit=MAX_BODY_DEPTH)]})
    try:
        return schema.load(data)
    except ValidationError as error:
        raise BodyError(_flatten(error.messages)) from None


def error_body(error: Exception, status: int, lang: str) -> dict:
    """The one shape of the API's refusals: ``error``, ``status`` and, for a refused body or parameter,
    ``fields`` (each member's or parameter's messages).

    A body's messages, the tracker's and the spatial core's (every :class:`translations.TranslatableError`)
    are worded in ``lang``, the request's language (``?lang=en``); OGC's exceptions keep the English ``str``.
    """
    worded = isinstance(error, (BodyError, TranslatableError))
    body = {"error": error.text(lang) if worded else str(error), "status": status}
    problems = getattr(error, "problems", None)
    if problems:
        body["fields"] = (error.field_texts(lang) if isinstance(error, BodyError)
                          else {name: "; ".join(t.text(lang) if isinstance(t, Message) else str(t) for t in texts)
                                for name, texts in problems.items()})
    return body
