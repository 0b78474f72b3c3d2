"""Outbound provisioning: desired state from the lake, a plan against the directory, then apply.

- ``config``: a flow set's configuration (Graph's four provisioning flows plus Homeroom's own options:
  naming templates, rename and class-end policies, thresholds), validated once;
- ``naming``: the naming templates and the collision policy, as column expressions;
- ``desired``: what the directory should hold, from active, validated records of the year;
- ``plan``: desired against actual (the directory snapshot and match links) as a table of operations;
- ``reasons``: the stable reason code of every operation (a registry, like validation rules);
- ``safety``: what holds a plan for approval (thresholds, renames, a short snapshot, a missing file);
- ``storage``: the plan of a run and the results of applying it, kept in the lake;
- ``apply``: the resumable loop that hands operations to a target's writer;
- ``service``: plan, approve, discard and apply for a run, with the control plane.

The reconciliation is the Terraform idea: applying a plan and planning again gives no operations.
"""
