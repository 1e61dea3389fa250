"""The store: SQLAlchemy 2 models, database access and the tracker's write rules.

No Flask here either: the web layer hands a :class:`store.db.Database` around.
"""
