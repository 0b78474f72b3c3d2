"""SDS classic synchronization profiles on the shared engine (Graph's ``education/synchronizationProfiles``).

A profile is a thin layer over what industryData already has: provisioning gives it a source system (its identity
matching settings, in the shape of ``userMatchingSettings``), a file connector (its uploads, an SDS v1 package), an
inbound flow of its own, and an outbound flow set whose user flow carries its licences and whose class group flow
carries its display-name rule. ``start`` runs the verified package through ``homeroom.runs.Runner``, so a profile's
data lands in the same lake, with the same statistics, as ``homeroom run`` of the same files. Modules:
``profiles.py`` (lifecycle and synchronizations), ``identity.py`` (identity and licences -> matching settings and
user flow), ``providers.py`` (data providers and customizations -> format options; the OneRoster hook).
"""
