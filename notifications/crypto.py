"""The credential encryption lives in core (core/crypto.py) so billing's provider connections share the keys
and the rotation; this name stays for the notifications code that imports it."""

from core.crypto import CredentialUnreadable, decrypt, encrypt, mask, rotate

__all__ = ["CredentialUnreadable", "decrypt", "encrypt", "mask", "rotate"]
