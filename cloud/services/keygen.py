"""Key pair cryptography as Nova does it: fingerprints of imported keys, and new keys
(an RSA ssh key, or an x509 certificate for WinRM) when the user brings none."""

import base64
import datetime as dt
import hashlib

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from cloud.domain.errors import Invalid
from cloud.domain.keypair import SSH

RSA_BITS = 2048
_UPN = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")  # Microsoft's user principal name


def _colons(digest: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in digest)


def ssh_fingerprint(public_key: str) -> str:
    """MD5 of the key blob, colon-separated; ``Invalid`` when it is no ssh public key."""
    try:
        serialization.load_ssh_public_key(public_key.encode("utf-8"))
        blob = base64.b64decode(public_key.split(" ")[1])
    except (ValueError, IndexError, TypeError, UnicodeError, UnsupportedAlgorithm):
        raise Invalid("Keypair data is invalid: failed to generate fingerprint") from None
    return _colons(hashlib.md5(blob, usedforsecurity=False).digest())


def x509_fingerprint(certificate: str) -> str:
    """SHA-1 of the DER certificate, colon-separated; ``Invalid`` when it is no PEM."""
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode("utf-8"))
    except (ValueError, TypeError, UnicodeError) as error:
        raise Invalid("Keypair data is invalid: failed to generate X509 fingerprint."
                      f" Error message: {error}") from None
    return _colons(cert.fingerprint(hashes.SHA1()))  # Nova's choice, not for security


def fingerprint(public_key: str, key_type: str) -> str:
    """The fingerprint Nova shows for a public key of the given type."""
    return ssh_fingerprint(public_key) if key_type == SSH else x509_fingerprint(public_key)


def generate(key_type: str, user_id: str) -> tuple[str, str]:
    """A new key: ``(private_key, public_key)``, the private key never stored."""
    return generate_ssh() if key_type == SSH else generate_x509(user_id)


def generate_ssh() -> tuple[str, str]:
    """An RSA key: the private key as PEM, the public key in OpenSSH's format."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode("ascii")
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH)
    return private, public.decode("ascii") + " Generated-by-Nova"


def _der_utf8(text: bytes) -> bytes:
    """A DER UTF8String (tag 12) holding ``text``."""
    size = len(text)
    if size < 0x80:
        return b"\x0c" + bytes([size]) + text
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return b"\x0c" + bytes([0x80 | len(length)]) + length + text


def generate_x509(user_id: str, *, now: dt.datetime | None = None) -> tuple[str, str]:
    """A client certificate for ``user_id``: the PKCS#12 bundle (base64, no password) as
    the private key, the PEM certificate as the public key, as Nova's WinRM keys."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    # X.509 allows at most 64 characters in a common name.
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id[:64])])
    start = now or dt.datetime.now(dt.UTC)
    upn = f"{user_id}@localhost".encode()
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.OtherName(
                _UPN, _der_utf8(upn))]), critical=False)
            .sign(key, hashes.SHA256()))
    bundle = pkcs12.serialize_key_and_certificates(
        None, key, cert, None, serialization.NoEncryption())
    return (base64.b64encode(bundle).decode("ascii"),
            cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))
