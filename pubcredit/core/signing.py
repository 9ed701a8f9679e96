"""The centre's signing key: PAdES signatures on the PDFs the platform issues (credit reports).

Key and certificate (PEM files):
- Production: PUBCREDIT_SIGNING_KEY and PUBCREDIT_SIGNING_CERT name the centre's key and its
  certificate (issued by a CA the receivers trust, or self-signed); PUBCREDIT_SIGNING_PASSPHRASE
  unlocks an encrypted key; PUBCREDIT_SIGNING_CHAIN names the intermediate certificates
  (comma-separated paths) embedded with the signature.
- A laptop install: when they are not set, a key (EC P-256) and a self-signed certificate with the
  centre's name (core.letters.centre_name) are generated once into `<var>/signing/` (key.pem
  0600, cert.pem), like the other keys of core.keys. Back the directory up with the database:
  reports signed with a lost key can no longer be told ours by the verification page.

`sign_pdf(data, reason=…, location=…)` returns the PDF with a PAdES B-B signature (subfilter
ETSI.CAdES.detached, sha256) appended as an incremental update; the signer is loaded once per
process. No timestamp: an intranet reaches no timestamp authority (TSA), so the signing time is
the signer's clock (a signed attribute). A TSA (pyHanko's HTTPTimeStamper, B-T level) can be
added here once one is reachable.

`validate(data, trust=…)` checks a PDF's signatures with pyHanko's validator against the centre's
certificate as trust root (no network: no fetching of revocation information) and says whether
the signature is intact, made by the centre's key, and covers the whole file. It parses any PDF:
call it on untrusted bytes only inside core.untrusted's child process (reports.verification
does).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_FILE = "key.pem"
CERT_FILE = "cert.pem"
CERT_YEARS = 10
FIELD_NAME = "CentreSignature"
SIGNATURE_BYTES = 16 * 1024

_lock = threading.Lock()
_signers: dict[tuple, object] = {}


@dataclass(frozen=True)
class SigningFiles:
    key: Path
    cert: Path
    chain: tuple[Path, ...] = ()
    passphrase: bytes | None = None


def signing_dir() -> Path:
    return Path(getattr(settings, "PUBCREDIT_SIGNING_DIR", "") or settings.VAR_DIR / "signing")


def signing_files() -> SigningFiles:
    """The key and certificate in use: the configured ones, else the laptop's (created once)."""
    key = getattr(settings, "PUBCREDIT_SIGNING_KEY", "")
    cert = getattr(settings, "PUBCREDIT_SIGNING_CERT", "")
    passphrase = getattr(settings, "PUBCREDIT_SIGNING_PASSPHRASE", "") or None
    chain = tuple(Path(p) for p in getattr(settings, "PUBCREDIT_SIGNING_CHAIN", ()) if p)
    if bool(key) != bool(cert):
        raise ImproperlyConfigured(
            "PUBCREDIT_SIGNING_KEY and PUBCREDIT_SIGNING_CERT must be set together"
        )
    if key and cert:
        return SigningFiles(
            Path(key), Path(cert), chain, passphrase.encode() if passphrase else None
        )
    folder = signing_dir()
    if not (folder / KEY_FILE).exists() or not (folder / CERT_FILE).exists():
        create_self_signed(folder)
    return SigningFiles(folder / KEY_FILE, folder / CERT_FILE)


def create_self_signed(folder: Path, *, common_name: str | None = None) -> None:
    """Generate an EC P-256 key and a self-signed certificate for the centre into `folder`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from pubcredit.core.letters import centre_name

    with _lock:
        if (folder / KEY_FILE).exists() and (folder / CERT_FILE).exists():
            return
        folder.mkdir(parents=True, exist_ok=True)
        name = common_name or centre_name()
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365 * CERT_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = folder / (KEY_FILE + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_pem)
        os.chmod(tmp, 0o600)
        (folder / CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        tmp.replace(folder / KEY_FILE)


def _signer():
    files = signing_files()
    cache_key = (files.key, files.cert, files.chain, files.passphrase)
    signer = _signers.get(cache_key)
    if signer is None:
        from pyhanko.sign import signers

        signer = signers.SimpleSigner.load(
            str(files.key),
            str(files.cert),
            ca_chain_files=[str(p) for p in files.chain] or None,
            key_passphrase=files.passphrase,
        )
        if signer is None:
            raise RuntimeError(f"cannot load the signing key {files.key} and certificate")
        _signers[cache_key] = signer
    return signer


def certificate_pem() -> bytes:
    """The centre's signing certificate (PEM): the trust root of `validate`."""
    return signing_files().cert.read_bytes()


def sign_pdf(data: bytes, *, reason: str, location: str) -> bytes:
    """`data` (a PDF) with the centre's PAdES B-B signature appended."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    out = io.BytesIO()
    # A fixed reservation for the CMS blob skips pyHanko's dry-run signature that measures it
    # (half the time of a signature); 16 KB holds the signature and a chain of a few certificates.
    signers.PdfSigner(meta, signer=_signer()).sign_pdf(
        writer, output=out, bytes_reserved=SIGNATURE_BYTES
    )
    return out.getvalue()


@dataclass(frozen=True)
class Validation:
    """What `validate` found. `ok` = signed, intact, by the trusted key, covering the whole file."""

    signed: bool
    intact: bool = False
    trusted: bool = False
    whole_file: bool = False
    signer: str = ""
    signed_at: str = ""  # ISO time the signer claims (no timestamp authority)

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.trusted and self.whole_file


def validate(data: bytes, *, trust: bytes | None = None) -> Validation:
    """Validate the last signature of the PDF `data` against `trust` (PEM certificate(s); default
    the centre's certificate). Raises on a file that is not a readable PDF."""
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    trust = trust if trust is not None else certificate_pem()
    roots = [
        x509.Certificate.load(der)
        for _type, _headers, der in pem.unarmor(trust, multiple=True)
        if _type == "CERTIFICATE"
    ]
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    signatures = reader.embedded_signatures
    if not signatures:
        return Validation(signed=False)
    embedded = signatures[-1]
    context = ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail"
    )
    status = validate_pdf_signature(embedded, context)
    signed_at = status.signer_reported_dt
    return Validation(
        signed=True,
        intact=bool(status.intact),
        trusted=bool(status.intact and status.valid and status.trusted),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=_common_name(status.signing_cert),
        signed_at=signed_at.isoformat(timespec="seconds") if signed_at else "",
    )


def _common_name(cert) -> str:
    if cert is None:
        return ""
    names = cert.subject.native
    return str(names.get("common_name") or names.get("organization_name") or "")
