"""The OneRoster provider: the lake of a tenant served as OneRoster 1.1 and 1.2 rostering REST APIs.

- ``collections.py``: the collections, the nested endpoints and the scope each accepts;
- ``views.py``: the canonical lake tables mapped onto OneRoster's fields (one frame per collection and version);
- ``lake_views.py``: those frames per tenant and lake version, built once and kept while the lake is unchanged;
- ``query.py``: ``filter``, ``sort``/``orderBy``, ``fields``, ``limit``/``offset``;
- ``errors.py``: the ``imsx_StatusInfo`` error payload;
- ``routes.py``: the FastAPI router (``/ims/oneroster/v1p1/...`` and ``/ims/oneroster/rostering/v1p2/...``).

See docs/oneroster.md.
"""
