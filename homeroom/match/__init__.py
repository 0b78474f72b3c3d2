"""Directory snapshots and identity matching: the stage between the lake and outbound provisioning.

- ``tables``: the lake tables ``directory_accounts``, ``directory_groups`` and ``match_links``;
- ``snapshot``: read a target page by page into the lake, atomically;
- ``settings``: a source system's userMatchingSettings as rules per role group;
- ``engine``: the columnar match and the link history; ``links``: one source system against one target;
- ``report``: the match report; ``rules``: the findings' codes.
"""

from homeroom.match import tables  # noqa: F401 - registers the lake tables
