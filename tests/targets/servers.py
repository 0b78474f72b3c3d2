"""Real directory servers on loopback for tests and benches: a Samba AD domain controller and an OpenLDAP slapd.

Both are the Debian packages (``samba``, ``slapd``), started as children of the test process in a temporary
folder and stopped at the end; nothing of the machine's own configuration is read or changed.

- :func:`running_slapd` writes a scratch ``cn=config`` (core, cosine, nis and inetOrgPerson schemas; ``entryUUID``
  is built in; the refint overlay, which rewrites ``member``/``owner`` DNs when an entry moves, as a directory
  Homeroom moves accounts in should have), loads a base tree offline with ``slapadd`` and serves LDAP and LDAPS
  on free high ports.
- :func:`running_samba` provisions a throwaway domain (``samba-tool domain provision --server-role=dc
  --dns-backend=NONE``) and runs ``samba -i`` with only its LDAP service, bound to 127.0.0.1. Samba has no
  setting for its LDAP ports (389 and 636 are fixed), so two domain controllers cannot run on one machine at
  once: the whole life of one is spent holding an exclusive ``flock`` on :data:`SAMBA_LOCK`, which every
  helper's test session shares.

Both serve LDAPS with a certificate for ``127.0.0.1``/``localhost`` signed by a throwaway CA
(:func:`make_test_ca`), so certificate validation is tested, not switched off.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import ipaddress
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: The lock every Samba AD DC started by tests on this machine holds for its whole life (its ports are fixed).
SAMBA_LOCK = Path(os.environ.get("HOMEROOM_SAMBA_LOCK", "/work/.samba.lock" if Path("/work").is_dir() else
                                 Path(tempfile.gettempdir()) / "homeroom-samba.lock"))
SAMBA_LOCK_WAIT = float(os.environ.get("HOMEROOM_SAMBA_LOCK_WAIT", "1800"))

SCHEMA_DIR = Path("/etc/ldap/schema")
SLAPD_MODULES = Path("/usr/lib/ldap")


class ServerUnavailable(Exception):
    """A test server cannot be started here; the message is the one-line reason a test skips with."""


@dataclass(frozen=True)
class TlsFiles:
    """A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost (PEM files)."""

    ca: Path
    cert: Path
    key: Path


def make_test_ca(folder: Path) -> TlsFiles:
    """A CA and a server certificate (SAN: 127.0.0.1, ::1, localhost) in ``folder``; the key is owner-only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Homeroom test CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
             x509.IPAddress(ipaddress.ip_address("::1"))]
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(ca=folder / "ca.pem", cert=folder / "cert.pem", key=folder / "key.pem")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                            serialization.NoEncryption()))
    files.key.chmod(0o600)  # Samba refuses a key others can read
    return files


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _need(*programs: str) -> dict[str, str]:
    """The full paths of ``programs`` (``/usr/sbin`` included, it is often not on PATH), or ServerUnavailable."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = {p: shutil.which(p, path=path) for p in programs}
    missing = [p for p, where in found.items() if where is None]
    if missing:
        raise ServerUnavailable(f"{', '.join(missing)} not installed (Debian packages samba, slapd, ldap-utils)")
    return found  # type: ignore[return-value]


def _wait(process: subprocess.Popen, ready, *, what: str, log: Path, seconds: float) -> None:
    """Poll ``ready()`` until it is true; the process dying or the time running out is ServerUnavailable."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-600:] if log.exists() else ""
            raise ServerUnavailable(f"{what} exited with status {process.returncode}: {tail.strip()!r}")
        if ready():
            return
        time.sleep(0.2)
    raise ServerUnavailable(f"{what} did not answer within {seconds:.0f} s")


def _stop(process: subprocess.Popen | None) -> None:
    """SIGTERM to the server's process group (Samba forks workers), then SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 15)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.wait(timeout=10)


# ---------------------------------------------------------------------------------------------------- slapd


@dataclass
class Slapd:
    """A running slapd: where it listens and the accounts planted in its base tree.

    ``reader_dn`` can read everything (with no size limit on paged searches, as a real service account needs);
    ``noread_dn`` can bind but reads nothing (for the missing-permission check)."""

    root: Path
    tls: TlsFiles
    port: int
    ldaps_port: int
    base_dn: str = "dc=district,dc=test"
    admin_dn: str = "cn=admin,dc=district,dc=test"
    admin_password: str = "admin-secret"
    reader_dn: str = "cn=homeroom,dc=district,dc=test"
    reader_password: str = "reader-secret"
    noread_dn: str = "cn=noread,dc=district,dc=test"
    noread_password: str = "noread-secret"
    host: str = "127.0.0.1"
    process: subprocess.Popen | None = field(default=None, repr=False)

    def connection(self):
        """An ldap3 connection bound as the admin (the root DN) over plain LDAP, for planting and inspecting."""
        import ldap3

        return ldap3.Connection(ldap3.Server(self.host, port=self.port), self.admin_dn, self.admin_password,
                                auto_bind=True)

    def settings(self, **overrides) -> dict:
        """Settings of an ``ldap`` target reading this server over LDAPS as the reader account."""
        return {"host": self.host, "port": self.ldaps_port, "security": "ldaps", "ca_file": str(self.tls.ca),
                "bind_dn": self.reader_dn, "base_dn": self.base_dn, **overrides}


def _slapd_config(root: Path, tls: TlsFiles, base_dn: str, admin_dn: str, admin_password: str, reader_dn: str) -> str:
    schemas = "\n".join(f"include: file://{SCHEMA_DIR / name}.ldif" for name in ("core", "cosine", "nis", "inetorgperson"))
    return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {root}/slapd.pid
olcTLSCACertificateFile: {tls.ca}
olcTLSCertificateFile: {tls.cert}
olcTLSCertificateKeyFile: {tls.key}

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {SLAPD_MODULES}
olcModuleLoad: back_mdb
olcModuleLoad: refint

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcRootDN: cn=config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {base_dn}
olcRootDN: {admin_dn}
olcRootPW: {admin_password}
olcDbDirectory: {root}/db
olcDbMaxSize: 1073741824
olcDbIndex: objectClass eq
olcDbIndex: uid,employeeNumber,entryUUID eq
olcLimits: {{0}}dn.exact="{reader_dn}" size.soft=unlimited size.hard=unlimited size.prtotal=unlimited
olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
olcAccess: {{1}}to * by dn.exact="{reader_dn}" read by * none

dn: olcOverlay={{0}}refint,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {{0}}refint
olcRefintAttribute: member owner
"""


def _slapd_base(base_dn: str, s: Slapd) -> str:
    dc = base_dn.split(",")[0].split("=")[1]
    return f"""dn: {base_dn}
objectClass: top
objectClass: dcObject
objectClass: organization
o: District
dc: {dc}

dn: {s.reader_dn}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: homeroom
userPassword: {s.reader_password}

dn: {s.noread_dn}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: noread
userPassword: {s.noread_password}
"""


@contextlib.contextmanager
def running_slapd(root: Path) -> Iterator[Slapd]:
    """A slapd serving ``dc=district,dc=test`` from ``root`` (a fresh folder) until the block ends."""
    tools = _need("slapd", "slapadd")
    if not (SCHEMA_DIR / "inetorgperson.ldif").exists() or not (SLAPD_MODULES / "back_mdb.so").exists():
        raise ServerUnavailable(f"slapd's schemas ({SCHEMA_DIR}) or modules ({SLAPD_MODULES}) are missing")
    root.mkdir(parents=True, exist_ok=True)
    (root / "slapd.d").mkdir()
    (root / "db").mkdir()
    server = Slapd(root=root, tls=make_test_ca(root / "tls"), port=free_port(), ldaps_port=free_port())
    (root / "config.ldif").write_text(_slapd_config(root, server.tls, server.base_dn, server.admin_dn,
                                                    server.admin_password, server.reader_dn))
    (root / "base.ldif").write_text(_slapd_base(server.base_dn, server))
    for number, ldif in (("0", "config.ldif"), ("1", "base.ldif")):
        done = subprocess.run([tools["slapadd"], "-F", str(root / "slapd.d"), "-n", number, "-l", str(root / ldif)],
                              capture_output=True, text=True)
        if done.returncode:
            raise ServerUnavailable(f"slapadd of {ldif} failed: {done.stderr.strip()[-400:]}")
    log = root / "slapd.log"
    urls = f"ldap://{server.host}:{server.port}/ ldaps://{server.host}:{server.ldaps_port}/"
    with open(log, "wb") as out:
        server.process = subprocess.Popen([tools["slapd"], "-F", str(root / "slapd.d"), "-h", urls, "-d", "0"],
                                          stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait(server.process, lambda: _port_open(server.host, server.port) and _port_open(server.host, server.ldaps_port),
              what="slapd", log=log, seconds=30)
        yield server
    finally:
        _stop(server.process)


# ---------------------------------------------------------------------------------------------------- Samba AD


@dataclass
class SambaDC:
    """A running Samba AD domain controller (LDAP service only) on 127.0.0.1:389 and :636."""

    root: Path
    tls: TlsFiles
    realm: str = "HOMEROOM.TEST"
    domain: str = "HOMEROOM"
    base_dn: str = "DC=homeroom,DC=test"
    admin_password: str = "Adm1n-Passw0rd!"
    host: str = "127.0.0.1"
    port: int = 389
    ldaps_port: int = 636
    process: subprocess.Popen | None = field(default=None, repr=False)
    lock: object = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def admin_user(self) -> str:
        return f"Administrator@{self.realm.lower()}"

    @property
    def smb_conf(self) -> Path:
        return self.root / "etc" / "smb.conf"

    def connection(self):
        """An ldap3 connection bound as Administrator over LDAPS (validated against the test CA)."""
        import ssl

        import ldap3

        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.tls.ca))
        server = ldap3.Server(self.host, port=self.ldaps_port, use_ssl=True, tls=tls)
        return ldap3.Connection(server, self.admin_user, self.admin_password, auto_bind=True)

    def settings(self, **overrides) -> dict:
        """Settings of an ``active-directory`` target reading this domain over LDAPS as Administrator."""
        return {"host": self.host, "port": self.ldaps_port, "security": "ldaps", "ca_file": str(self.tls.ca),
                "bind_user": self.admin_user, "base_dn": self.base_dn, **overrides}

    def samba_tool(self, *args: str) -> str:
        """Run ``samba-tool`` against this domain's database (offline tools: users, ACLs); its output."""
        done = subprocess.run([_need("samba-tool")["samba-tool"], *args, "-s", str(self.smb_conf)],
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"samba-tool {' '.join(args)} failed: {done.stderr.strip()[-400:]}")
        return done.stdout


def provision_samba(root: Path, *, realm: str = SambaDC.realm, domain: str = SambaDC.domain,
                    password: str = SambaDC.admin_password) -> SambaDC:
    """Provision a throwaway domain into ``root`` (no DNS, loopback only, its own pid/log/TLS files); not started.

    Provisioning binds no port, so it needs no lock."""
    tools = _need("samba-tool", "samba")
    root.mkdir(parents=True, exist_ok=True)
    tls = make_test_ca(root / "tls")
    options = {
        "interfaces": "127.0.0.1/8",
        "bind interfaces only": "yes",
        "server services": "ldap",
        "pid directory": str(root / "run"),
        "log file": str(root / "log" / "samba.log"),
        "tls enabled": "yes",
        "tls cafile": str(tls.ca),
        "tls certfile": str(tls.cert),
        "tls keyfile": str(tls.key),
    }
    (root / "run").mkdir(exist_ok=True)
    (root / "log").mkdir(exist_ok=True)
    command = [tools["samba-tool"], "domain", "provision", "--server-role=dc", "--dns-backend=NONE",
               f"--realm={realm}", f"--domain={domain}", f"--adminpass={password}", f"--targetdir={root / 'dc'}",
               *[f"--option={k}={v}" for k, v in options.items()]]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise ServerUnavailable(f"samba-tool domain provision failed: {done.stderr.strip()[-400:]}")
    dc_root = root / "dc"
    return SambaDC(root=dc_root, tls=tls, realm=realm, domain=domain, admin_password=password)


def _acquire(path: Path, wait: float):
    """An open handle holding an exclusive flock on ``path``, waiting up to ``wait`` seconds for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held for the server's life
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                raise ServerUnavailable(f"another Samba AD DC held {path} for over {wait:.0f} s") from None
            time.sleep(0.5)


def start_samba(dc: SambaDC) -> SambaDC:
    """Start the provisioned ``dc`` (idempotent), first taking :data:`SAMBA_LOCK` for as long as it runs."""
    if dc.process is not None and dc.process.poll() is None:
        return dc
    tools = _need("samba")
    lock = _acquire(SAMBA_LOCK, SAMBA_LOCK_WAIT)
    try:
        deadline = time.monotonic() + 20  # the workers of a DC just stopped may still be closing their sockets
        while any(_port_open(dc.host, port) for port in (dc.port, dc.ldaps_port)) and time.monotonic() < deadline:
            time.sleep(0.5)
        for port in (dc.port, dc.ldaps_port):
            if _port_open(dc.host, port):
                raise ServerUnavailable(f"{dc.host}:{port} is taken by a server outside the Samba lock "
                                        "(a system samba or slapd?); Samba's LDAP ports are fixed")
        log = dc.root / "samba.out"
        with open(log, "ab") as out:
            dc.process = subprocess.Popen([tools["samba"], "-i", "-s", str(dc.smb_conf)], stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        _wait(dc.process, lambda: _samba_answers(dc), what="samba", log=log, seconds=120)
    except BaseException:
        _stop(dc.process)
        dc.process = None
        lock.close()
        raise
    dc.lock = lock
    return dc


def stop_samba(dc: SambaDC) -> None:
    """Stop ``dc`` (its database stays, so it can start again) and let the next Samba on this machine run."""
    _stop(dc.process)
    dc.process = None
    deadline = time.monotonic() + 20  # its forked workers exit after the main process: wait for the ports
    while any(_port_open(dc.host, port) for port in (dc.port, dc.ldaps_port)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if dc.lock is not None:
        dc.lock.close()  # closing the file releases the flock
        dc.lock = None


@contextlib.contextmanager
def running_samba(dc: SambaDC) -> Iterator[SambaDC]:
    """The provisioned ``dc`` running until the block ends."""
    start_samba(dc)
    try:
        yield dc
    finally:
        stop_samba(dc)


def _samba_answers(dc: SambaDC) -> bool:
    if not _port_open(dc.host, dc.ldaps_port):
        return False
    try:
        dc.connection().unbind()
    except Exception:  # noqa: BLE001 - not ready yet (the LDAP workers are still forking)
        return False
    return True
