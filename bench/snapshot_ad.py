#!/usr/bin/env python3
"""Benchmark: reading every account of a Samba AD domain through Homeroom's reader against a bare ldap3 paged search.

In one invocation, on the same domain and the same entries:

1. a throwaway Samba AD domain is provisioned in a temporary folder and ``--accounts`` users are added to
   ``OU=Bench`` offline (Samba's own Python bindings, ``SamDB.add`` in transactions, before the server starts:
   measured faster than LDAP adds; printed);
2. the domain controller is started on 127.0.0.1 (LDAPS; it holds the machine-wide Samba lock, see
   ``tests/targets/servers.py``);
3. rounds alternate between the floor, a bare ``conn.extend.standard.paged_search`` (ldap3, generator, the same
   filter, attributes, page size and TLS settings) that only counts the entries, and Homeroom's
   ``read_accounts`` of an ``active-directory`` target (the same search, each entry mapped to an account row).

Prints each side's best rate in accounts per second, Homeroom's share of the floor's rate (goal, issue 11: at
least 0.8) and the process's peak RSS. Run it under the heavy-jobs lock (it adds 100k accounts):

    flock /work/.heavy.lock .venv/bin/python bench/snapshot_ad.py                 # 100k accounts, 3 rounds
    .venv/bin/python bench/snapshot_ad.py --keep /tmp/ad100k --prepare-only            # load once (no server runs),
    flock /work/.heavy.lock .venv/bin/python bench/snapshot_ad.py --keep /tmp/ad100k   # then measure
    .venv/bin/python bench/snapshot_ad.py --accounts 5000 --rounds 2               # a quick look
"""

from __future__ import annotations

import argparse
import resource
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ldap3  # noqa: E402

from homeroom.targets import kind_of  # noqa: E402
from homeroom.targets.active_directory.reader import ACCOUNT_ATTRIBUTES  # noqa: E402
from tests.targets.servers import SambaDC, TlsFiles, provision_samba, running_samba  # noqa: E402

# Runs under the system Python, which has Samba's bindings (python3-samba); the server is not running yet.
OFFLINE_LOAD = r"""
import sys, time
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
root, count, batch = sys.argv[1], int(sys.argv[2]), 5000
lp = LoadParm()
lp.load(f"{root}/etc/smb.conf")
db = SamDB(url=f"{root}/private/sam.ldb", session_info=system_session(), lp=lp)
base = str(db.domain_dn())
db.add({"dn": f"OU=Bench,{base}", "objectClass": "organizationalUnit"})
started = time.perf_counter()
for first in range(0, count, batch):
    db.transaction_start()
    for i in range(first, min(first + batch, count)):
        db.add({"dn": f"CN=Bench User {i},OU=Bench,{base}", "objectClass": "user", "sAMAccountName": f"bench{i}",
                "userPrincipalName": f"bench{i}@homeroom.test", "mail": f"bench{i}@district.test",
                "employeeID": f"emp-{i:07}", "givenName": f"Bench{i}", "sn": "User", "displayName": f"Bench User {i}"})
    db.transaction_commit()
print(f"{count} {time.perf_counter() - started:.3f}")
"""


def load_offline(dc_root: Path, count: int) -> float:
    """Add ``count`` users offline; the seconds it took."""
    done = subprocess.run(["/usr/bin/python3", "-c", OFFLINE_LOAD, str(dc_root), str(count)],
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"offline load failed: {done.stderr.strip()[-800:]}")
    return float(done.stdout.split()[-1])


def floor_read(dc, base: str, page_size: int) -> int:
    """The bare ldap3 paged search: every entry of the same search, counted."""
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(dc.tls.ca))
    server = ldap3.Server(dc.host, port=dc.ldaps_port, use_ssl=True, tls=tls, get_info=ldap3.DSA)
    connection = ldap3.Connection(server, dc.admin_user, dc.admin_password, auto_bind=True, auto_referrals=False)
    attributes = list(dict.fromkeys([*ACCOUNT_ATTRIBUTES, "employeeID"]))
    count = sum(1 for _ in connection.extend.standard.paged_search(
        base, "(&(objectCategory=person)(objectClass=user))", attributes=attributes, paged_size=page_size,
        generator=True))
    connection.unbind()
    return count


def homeroom_read(dc, base: str, page_size: int) -> int:
    target = kind_of("active-directory").connect("bench", dc.settings(base_dn=base), {"password": dc.admin_password})
    count = 0
    for page in target.read_accounts(page_size=page_size):
        count += len(page)
    target.close()
    return count


def timed(fn, *args) -> tuple[int, float]:
    started = time.perf_counter()
    count = fn(*args)
    return count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the loaded domain in this folder, and reuse it next time")
    parser.add_argument("--prepare-only", action="store_true", help="provision and load into --keep, measure nothing "
                                                                    "(needs no lock: no server runs)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="homeroom-bench-ad-") as folder:
        work = args.keep or Path(folder)
        marker = work / f"loaded-{args.accounts}"
        if marker.exists():
            dc = SambaDC(root=work / "samba" / "dc", tls=TlsFiles(*(work / "samba" / "tls" / f for f in
                                                                    ("ca.pem", "cert.pem", "key.pem"))))
            print(f"reusing the domain in {work} with {args.accounts} users", flush=True)
        else:
            started = time.perf_counter()
            dc = provision_samba(work / "samba")
            print(f"provisioned a domain in {time.perf_counter() - started:.1f} s", flush=True)
            seconds = load_offline(dc.root, args.accounts)
            print(f"added {args.accounts} users offline in {seconds:.1f} s ({args.accounts / seconds:.0f}/s)", flush=True)
            marker.touch()
        if args.prepare_only:
            return
        base = f"OU=Bench,{dc.base_dn}"
        best = {"floor": 0.0, "homeroom": 0.0}
        with running_samba(dc):
            for round_number in range(1, args.rounds + 1):
                for side, fn in (("floor", floor_read), ("homeroom", homeroom_read)):
                    count, seconds = timed(fn, dc, base, args.page_size)
                    if count != args.accounts:
                        sys.exit(f"{side} read {count} accounts, expected {args.accounts}")
                    rate = count / seconds
                    best[side] = max(best[side], rate)
                    print(f"round {round_number} {side:9} {count} accounts in {seconds:6.2f} s = {rate:8.0f}/s", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ratio = best["homeroom"] / best["floor"]
    print(f"floor (bare ldap3 paged search): {best['floor']:.0f} accounts/s")
    print(f"homeroom read_accounts:          {best['homeroom']:.0f} accounts/s")
    print(f"ratio homeroom/floor: {ratio:.2f} (goal >= 0.80)  peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
