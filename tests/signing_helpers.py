"""Throwaway signing certificates for tests: self-signed, RSA 2048, exported as PKCS#12."""

import datetime
import functools

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

CERTIFICATE_PASSWORD = "throwaway-p12-password"
ALPHA_SIGNER = "Chief Building Official, Town of Alpha"


@functools.cache
def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def throwaway_certificate(
    common_name: str = ALPHA_SIGNER,
    organisation: str = "Town of Alpha",
    *,
    expired: bool = False,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    start, end = (
        (now - datetime.timedelta(days=400), now - datetime.timedelta(days=1))
        if expired
        else (now - datetime.timedelta(days=1), now + datetime.timedelta(days=365))
    )
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CA"),
        ]
    )
    key = _key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
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
        .sign(key, hashes.SHA256())
    )


@functools.cache
def throwaway_pkcs12(
    common_name: str = ALPHA_SIGNER,
    organisation: str = "Town of Alpha",
    *,
    password: str = CERTIFICATE_PASSWORD,
    expired: bool = False,
    with_key: bool = True,
) -> bytes:
    certificate = throwaway_certificate(common_name, organisation, expired=expired)
    return pkcs12.serialize_key_and_certificates(
        name=b"signing",
        key=_key() if with_key else None,
        cert=certificate,
        cas=None,
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
    )


def store_signing_certificate(municipality, *, actor=None):
    """A municipality's signing certificate (its chief building official's office), stored
    as the admin stores one."""
    from core import signing

    certificate = signing.signing_certificate_store(
        municipality=municipality,
        pkcs12_data=throwaway_pkcs12(
            f"Chief Building Official, {municipality.name}", municipality.name
        ),
        password=CERTIFICATE_PASSWORD,
        actor=actor,
    )
    certificate.save()
    return certificate
