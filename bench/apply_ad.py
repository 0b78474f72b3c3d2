#!/usr/bin/env python3
"""Benchmark: applying ``create_user`` operations into Samba AD through Homeroom's writer against a bare ldap3 add loop.

In one invocation, on one throwaway Samba AD domain (provisioned, then started on 127.0.0.1 with LDAPS; it
holds the machine-wide Samba lock, see ``tests/targets/servers.py``), rounds alternate between:

- the floor: one ldap3 ``add`` per user over LDAPS (the same attributes, ``unicodePwd`` and
  ``userAccountControl`` 512 in the add), into an OU of its own;
- Homeroom: ``homeroom.targets.active_directory.writer.apply`` of the same users as plan operations, into
  another OU (each create also looks its anchor up first and reads the new object's objectGUID back).

Each round adds ``--users`` new users per side. Prints each side's best rate in users per second, Homeroom's
share of the floor's rate (goal, issue 12: at least 0.8) and the process's peak RSS.

    .venv/bin/python bench/apply_ad.py                  # 500 users per side and round, 2 rounds
    .venv/bin/python bench/apply_ad.py --users 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from homeroom.targets import kind_of  # noqa: E402
from homeroom.targets.active_directory import writer  # noqa: E402
from tests.targets.servers import provision_samba, running_samba  # noqa: E402

PASSWORD = "Bench-Passw0rd!"


def person(round_number: int, side: str, i: int) -> dict:
    name = f"{side[0]}{round_number}u{i}"
    return {"user_name": name, "user_principal_name": f"{name}@homeroom.test", "mail": f"{name}@district.test",
            "given_name": f"Given{i}", "family_name": "Bench", "display_name": f"Bench {name}", "enabled": True}


def floor_apply(dc, ou: str, round_number: int, count: int) -> None:
    connection = dc.connection()
    connection.add(ou, "organizationalUnit")
    encoded = f'"{PASSWORD}"'.encode("utf-16-le")
    for i in range(count):
        p = person(round_number, "floor", i)
        connection.add(f"CN={p['display_name']},{ou}", "user", {
            "sAMAccountName": p["user_name"], "userPrincipalName": p["user_principal_name"], "mail": p["mail"],
            "givenName": p["given_name"], "sn": p["family_name"], "displayName": p["display_name"],
            "employeeID": f"floor-{round_number}-{i}", "unicodePwd": encoded, "userAccountControl": 512})
        if connection.result["result"] != 0:
            sys.exit(f"floor add failed: {connection.result}")
    connection.unbind()


def homeroom_apply(dc, ou: str, round_number: int, count: int) -> None:
    target = kind_of("active-directory").connect("bench", dc.settings(), {"password": dc.admin_password})
    connection = dc.connection()
    connection.add(ou, "organizationalUnit")
    connection.unbind()
    ops = [{"target": "bench", "seq": i, "op": "create_user", "objectKind": "user", "groupKind": None,
            "objectKey": f"homeroom-{round_number}-{i}", "accountId": None, "memberKey": None, "memberId": None,
            "attributes": json.dumps({**person(round_number, "homeroom", i), "distinguished_name": ou,
                                      "password": PASSWORD}),
            "old": None, "reason": "UserUnmatchedCreate"} for i in range(count)]
    results = writer.apply(target, ops)
    failed = [r for r in results if r["status"] != "done"]
    if failed:
        sys.exit(f"{len(failed)} operations failed, the first: {failed[0]['error']}")
    target.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    best = {"floor": 0.0, "homeroom": 0.0}
    with tempfile.TemporaryDirectory(prefix="homeroom-bench-apply-") as folder:
        dc = provision_samba(Path(folder) / "samba")
        with running_samba(dc):
            for round_number in range(1, args.rounds + 1):
                for side, fn in (("floor", floor_apply), ("homeroom", homeroom_apply)):
                    ou = f"OU={side}-{round_number},{dc.base_dn}"
                    started = time.perf_counter()
                    fn(dc, ou, round_number, args.users)
                    seconds = time.perf_counter() - started
                    rate = args.users / seconds
                    best[side] = max(best[side], rate)
                    print(f"round {round_number} {side:9} {args.users} users in {seconds:6.2f} s = {rate:6.1f}/s", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"floor (bare ldap3 add loop): {best['floor']:.1f} users/s")
    print(f"homeroom writer.apply:       {best['homeroom']:.1f} users/s")
    print(f"ratio homeroom/floor: {best['homeroom'] / best['floor']:.2f} (goal >= 0.80)  peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
