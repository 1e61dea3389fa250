"""How the JSON API's routes read their input: the query and the body, each loaded by the marshmallow schema
the OpenAPI document shows for it (``web/api_schemas.py``), before the view runs.

``@with_query(Schema)`` passes the loaded query as ``query``, ``@with_body(Schema)`` the loaded body as
``data``; both leave the schema on the view (``query_schema``, ``body_schema``), where
``tests/test_api_bodies.py`` walks the url_map to check that the document describes what each route reads.
A refusal is a 400 in the API's one error shape (:func:`web.api_schemas.error_body`) and changes nothing.
"""
from __future__ import annotations

from functools import wraps

from flask import jsonify, request

from translations import message
from web.api_schemas import MAX_BODY_DEPTH, BodyError, error_body, load_body, load_query
from web.i18n import current_language


def refusal(e: Exception):
    """A refused request in the API's one error shape."""
    status = getattr(e, "status", 400)
    return jsonify(error_body(e, status, current_language())), status


def raw_body():
    try:
        return request.get_json(silent=True)
    except RecursionError:  # the json module recurses once per nesting level
        raise BodyError({"": [message("api.body.too_deep", limit=MAX_BODY_DEPTH)]}) from None


def with_body(schema_class):
    """The view receives its JSON body as ``data``, loaded by ``schema_class`` before anything is read or
    written; a refused body is a 400 naming each member."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            try:
                data = load_body(schema_class(), raw_body())
            except BodyError as e:
                return refusal(e)
            return view(*args, data=data, **kwargs)

        wrapped.body_schema = schema_class
        return wrapped

    return decorate


def with_query(schema_class, *, pass_to_view: bool = True):
    """The view receives its query string as ``query``, loaded by ``schema_class``; a refused parameter is a
    400 naming it (the app's GeoInputError handler answers :class:`~web.api_schemas.ParameterError`).

    ``pass_to_view=False`` only validates, for a view whose page shares a reader of the same parameters
    (``/api/corridor-stats`` reads them as ``/corridor`` does)."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            query = load_query(schema_class(), request.args)
            return view(*args, query=query, **kwargs) if pass_to_view else view(*args, **kwargs)

        wrapped.query_schema = schema_class
        return wrapped

    return decorate
